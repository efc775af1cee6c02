// Tokens: kiosk screen tokens from the URL, session tokens from the login page, and the API wrapper.

const KEY = "hv_token";

/** Take ?token= from the address bar (kiosk set-up), store it and remove it from the URL and history. */
export function adoptUrlToken() {
  const url = new URL(location.href);
  const token = url.searchParams.get("token");
  if (!token) return;
  localStorage.setItem(KEY, token);
  url.searchParams.delete("token");
  history.replaceState(null, "", url.pathname + url.search + url.hash);
}

export const getToken = () => localStorage.getItem(KEY);
export const setToken = (token) => localStorage.setItem(KEY, token);
export const clearToken = () => localStorage.removeItem(KEY);

/** Go to the login page, coming back here afterwards. */
export function toLogin(reason) {
  clearToken();
  const next = encodeURIComponent(location.pathname);
  location.replace(`/login.html?next=${next}${reason ? `&reason=${encodeURIComponent(reason)}` : ""}`);
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

/** fetch() with the bearer token and JSON in and out; 401 sends the user back to the login page. */
export async function api(path, {method = "GET", body, token = getToken()} = {}) {
  const headers = {accept: "application/json"};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const detail = typeof data?.detail === "string" ? data.detail : JSON.stringify(data?.detail ?? response.statusText);
    throw new ApiError(response.status, detail);
  }
  return data;
}

export async function login(username, password) {
  const data = await api("/api/auth/token", {method: "POST", body: {username, password}, token: null});
  setToken(data.access_token);
  return data;
}

export async function logout() {
  try {
    await api("/api/auth/logout", {method: "POST"});
  } finally {
    clearToken();
  }
}

export const canAct = (role) => role === "manager" || role === "admin";
