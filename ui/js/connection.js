// The /ws client: authenticate, subscribe, resume from the last cursor after a reconnect, heartbeats.
//
// Status: "connecting" (first attempt), "live" (frames flowing), "reconnecting" (socket closed, retrying)
// and "stale" (socket open but nothing received for two heartbeats: the link may be dead).

/** Stream IDs compare as (milliseconds, sequence). */
export function cursorAfter(a, b) {
  if (!b) return true;
  const [am, as] = a.split("-").map(Number);
  const [bm, bs] = b.split("-").map(Number);
  return am > bm || (am === bm && as > bs);
}

const BACKOFF_MS = [500, 1000, 2000, 4000, 5000];
const AUTH_FAILED = 4401;
const FORBIDDEN = 4403;

export class Connection {
  /**
   * @param {object} o
   * @param {string} o.token bearer token (session or screen)
   * @param {string[]} o.topics topics to subscribe to
   * @param {(frame: object) => void} o.onFrame hello, snapshot, replay and event frames, in order
   * @param {(status: string) => void} o.onStatus
   * @param {(code: number, reason: string) => void} o.onRefused the server refused the token or role
   */
  constructor({token, topics, onFrame, onStatus, onRefused}) {
    Object.assign(this, {token, topics, onFrame, onStatus, onRefused});
    this.cursor = null; // the last event (or snapshot) this page has applied
    this.lastFrameAt = 0;
    this.lastEventAt = 0;
    this.lastPingAt = 0;
    this.starts = []; // "snapshot" or "replay", one per (re)subscription: how each reconnect resumed
    this.heartbeatMs = 15000;
    this.attempt = 0;
    this.status = "connecting";
    this.ws = null;
    this.stopped = false;
    this.timer = setInterval(() => this.#watchdog(), 1000);
  }

  start() {
    this.stopped = false;
    this.#open();
  }

  stop() {
    this.stopped = true;
    clearInterval(this.timer);
    this.ws?.close(1000, "page closed");
  }

  #setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.onStatus(status);
  }

  #open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // The token goes in the first frame rather than the URL, so it stays out of access logs.
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({type: "auth", token: this.token}));
    ws.onmessage = (message) => this.#onMessage(ws, message);
    ws.onclose = (event) => this.#onClose(ws, event);
  }

  #onMessage(ws, message) {
    if (ws !== this.ws) return;
    this.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    switch (frame.type) {
      case "hello":
        this.heartbeatMs = (frame.heartbeat_s ?? 15) * 1000;
        this.attempt = 0;
        ws.send(JSON.stringify({type: "subscribe", topics: this.topics, since: this.cursor}));
        this.onFrame(frame);
        break;
      case "ping":
        ws.send(JSON.stringify({type: "pong"}));
        break;
      case "pong":
        break;
      case "snapshot":
        this.starts.push("snapshot");
        this.cursor = frame.cursor;
        this.lastEventAt = Date.now();
        this.#setStatus("live");
        this.onFrame(frame);
        break;
      case "replay":
        this.starts.push("replay");
        this.#setStatus("live");
        this.onFrame(frame);
        break;
      case "event":
        // The hub never sends an event twice, but a page must not apply one twice either.
        if (this.cursor && !cursorAfter(frame.cursor, this.cursor)) return;
        this.cursor = frame.cursor;
        this.lastEventAt = Date.now();
        this.#setStatus("live");
        this.onFrame(frame);
        break;
      case "error":
        console.warn("hub refused a frame:", frame.reason);
        break;
      default:
        break;
    }
  }

  #onClose(ws, event) {
    if (ws !== this.ws || this.stopped) return;
    this.ws = null;
    if (event.code === AUTH_FAILED || event.code === FORBIDDEN) {
      this.stopped = true;
      this.onRefused(event.code, event.reason);
      return;
    }
    this.#setStatus("reconnecting");
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    setTimeout(() => !this.stopped && this.#open(), delay);
  }

  #watchdog() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.status === "connecting") return;
    const quiet = Date.now() - this.lastFrameAt;
    if (quiet > this.heartbeatMs && Date.now() - this.lastPingAt > this.heartbeatMs) {
      this.lastPingAt = Date.now();
      ws.send(JSON.stringify({type: "ping"}));
    }
    if (quiet > 2 * this.heartbeatMs + 1000) {
      this.#setStatus("stale");
      // A half-open socket never closes by itself: close it and let the reconnect loop take over.
      if (quiet > 3 * this.heartbeatMs) ws.close(4000, "no frame for three heartbeats");
    } else if (this.status === "stale") {
      this.#setStatus("live");
    }
  }
}
