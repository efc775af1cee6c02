// The sign-in page: trade a username and password for a session token, then go back where we came from.

import {login} from "./auth.js";
import {$} from "./dom.js";

const params = new URLSearchParams(location.search);
if (params.get("reason")) $("#message").textContent = `Signed out: ${params.get("reason")}`;

/** Only same-site paths: a crafted ?next= must not send the user (and their token) elsewhere. */
function nextPath(role) {
  const next = params.get("next");
  if (next && next.startsWith("/") && !next.startsWith("//")) return next;
  return role === "team" ? "/team" : "/";
}

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const button = event.target.querySelector("button");
  button.disabled = true;
  $("#message").textContent = "";
  try {
    const session = await login(String(form.get("username")), String(form.get("password")));
    location.replace(nextPath(session.role));
  } catch (err) {
    $("#message").textContent = err.status === 401 ? "Wrong user name or password." : `Sign-in failed: ${err.message}`;
    button.disabled = false;
  }
});
