// Words of the page that the API gives only in English or as codes. Activity and role
// names come from the API ({id, fi, en, colour}), never from here.

// An API name object {fi, en} (or a bare id looked up in a list of them) -> "fi / en".
export function nameText(x, list) {
  if (x && typeof x === "object") return x.en ? `${x.fi} / ${x.en}` : x.fi || String(x.id);
  const found = (list || []).find((a) => a.id === Number(x));
  return found ? nameText(found) : x === undefined || x === null ? "" : String(x);
}

export const idOf = (x) => (x && typeof x === "object" ? x.id : Number(x));

// The phone menu's key map comes from the API in English (vipcall/voicemail/menu.KEY_MAP);
// these are its Finnish words.
export const KEY_WORDS_FI = {
  "new messages": "uudet viestit",
  "saved messages": "tallennetut viestit",
  "mailbox options": "vastaajan asetukset",
  help: "ohje",
  exit: "lopetus",
  "previous message": "edellinen viesti",
  repeat: "toista",
  "next message": "seuraava viesti",
  delete: "poista",
  save: "tallenna",
  "back to the main menu": "takaisin päävalikkoon",
  "record greeting": "äänitä tervehdys",
  "delete own greeting": "poista oma tervehdys",
  "record name": "äänitä nimi",
  "change PIN": "vaihda PIN-koodi",
};

export const MENU_NAMES = {
  main: ["Päävalikko", "Main menu"],
  message: ["Viestin aikana", "While a message plays"],
  options: ["Vastaajan asetukset", "Mailbox options"],
};
