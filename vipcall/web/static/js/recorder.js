// Record from the microphone into a 16-bit mono WAV (the server converts it to what
// Asterisk plays). Web Audio, no library; needs a secure context (https or localhost).

export function canRecord() {
  return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.AudioContext);
}

export async function startRecording() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const ctx = new AudioContext();
  const source = ctx.createMediaStreamSource(stream);
  const node = ctx.createScriptProcessor(4096, 1, 1);
  const chunks = [];
  node.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
  source.connect(node);
  node.connect(ctx.destination);
  const release = async () => {
    node.disconnect();
    source.disconnect();
    stream.getTracks().forEach((t) => t.stop());
    if (ctx.state !== "closed") await ctx.close();
  };
  return {
    /** Seconds recorded so far. */
    seconds: () => chunks.reduce((a, c) => a + c.length, 0) / ctx.sampleRate,
    /** Stop and return the recording as a WAV blob, cut at ``maxSeconds`` if given. */
    async stop(maxSeconds) {
      const rate = ctx.sampleRate;
      await release();
      return encodeWav(chunks, rate, maxSeconds ? Math.floor((maxSeconds - 0.05) * rate) : Infinity);
    },
    /** Stop and throw the recording away (the page was left). */
    async abandon() {
      chunks.length = 0;
      await release();
    },
  };
}

export function encodeWav(chunks, rate, maxSamples = Infinity) {
  const n = Math.min(maxSamples, chunks.reduce((a, c) => a + c.length, 0));
  const buf = new ArrayBuffer(44 + n * 2);
  const v = new DataView(buf);
  const str = (o, s) => [...s].forEach((ch, i) => v.setUint8(o + i, ch.charCodeAt(0)));
  str(0, "RIFF"); v.setUint32(4, 36 + n * 2, true); str(8, "WAVE");
  str(12, "fmt "); v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true);
  v.setUint16(34, 16, true); str(36, "data"); v.setUint32(40, n * 2, true);
  let o = 44;
  const end = 44 + n * 2;
  for (const c of chunks) {
    for (let i = 0; i < c.length && o < end; i++, o += 2) {
      const s = Math.max(-1, Math.min(1, c[i]));
      v.setInt16(o, s < 0 ? s * 0x8000 : s * 0x7fff, true);
    }
  }
  return new Blob([buf], { type: "audio/wav" });
}
