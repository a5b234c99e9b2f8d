// Showing the API's names. Activity and role names, route labels and the phone menu's key
// words all come from the API ({fi, en}); the page keeps no copy of them.

// An API name object {fi, en} (or a bare id looked up in a list of them) -> "fi / en".
export function nameText(x, list) {
  if (x && typeof x === "object") return x.en ? `${x.fi} / ${x.en}` : x.fi || String(x.id);
  const found = (list || []).find((a) => a.id === Number(x));
  return found ? nameText(found) : x === undefined || x === null ? "" : String(x);
}

export const idOf = (x) => (x && typeof x === "object" ? x.id : Number(x));
