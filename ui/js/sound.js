// An alarm beep made with WebAudio (no sound file to download), behind a toggle remembered per screen.

const KEY = "hv_sound";
let context = null;

export const soundOn = () => localStorage.getItem(KEY) === "on";

export function setSound(on) {
  localStorage.setItem(KEY, on ? "on" : "off");
  // Browsers only let audio start after a user gesture: the toggle click is that gesture.
  if (on) context ??= new AudioContext();
  if (on) context.resume();
}

export function beep({times = 3, frequency = 880} = {}) {
  if (!soundOn()) return;
  context ??= new AudioContext();
  const start = context.currentTime;
  for (let i = 0; i < times; i += 1) {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.type = "square";
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + i * 0.35);
    gain.gain.exponentialRampToValueAtTime(0.3, start + i * 0.35 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.35 + 0.25);
    osc.connect(gain).connect(context.destination);
    osc.start(start + i * 0.35);
    osc.stop(start + i * 0.35 + 0.3);
  }
}
