// The one way the pages talk to the API: fetch with the session cookie, the CSRF token on
// unsafe requests, JSON in and out, and every error as an ApiError built from the
// problem+json answer ({type, title, status, detail, field?, errors?}).

let csrfToken = null;

export function setCsrf(token) {
  csrfToken = token || null;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || "";
    this.detail = problem.detail || "";
    this.field = problem.field || null;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

// Listeners told when any request answers 401 (the session ended: show the login page).
const onUnauthorized = new Set();
export function whenLoggedOut(fn) {
  onUnauthorized.add(fn);
}

export async function api(method, path, body, { contentType, quiet401 = false } = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (typeof body === "string") {
    payload = body;
    headers["Content-Type"] = contentType || "text/plain";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  if (!SAFE.has(method) && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(0, {
      title: "Network error",
      detail: "Yhteys palvelimeen katkesi / Could not reach the server",
    });
  }
  if (res.status === 204) return null;
  const type = res.headers.get("content-type") || "";
  const data = type.includes("json") ? await res.json().catch(() => ({})) : await res.text();
  if (!res.ok) {
    const problem = typeof data === "object" && data ? data : { detail: String(data) };
    if (res.status === 401 && !quiet401) onUnauthorized.forEach((fn) => fn());
    throw new ApiError(res.status, problem);
  }
  return data;
}

export const get = (path, opts) => api("GET", path, undefined, opts);
export const post = (path, body, opts) => api("POST", path, body, opts);
export const put = (path, body, opts) => api("PUT", path, body, opts);
export const patch = (path, body, opts) => api("PATCH", path, body, opts);
export const del = (path, opts) => api("DELETE", path, undefined, opts);

// Lists may come as a bare array or wrapped ({items: [...]}, {messages: [...]}, ...).
export function listOf(data, ...keys) {
  if (Array.isArray(data)) return data;
  if (data && typeof data === "object") {
    for (const k of [...keys, "items", "results", "data"]) {
      if (Array.isArray(data[k])) return data[k];
    }
  }
  return [];
}
