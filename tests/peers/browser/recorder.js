'use strict';
/*
 * Shared by phone.js (JsSIP) and janus-phone.js (janus.js): events back to Python (report) and the
 * recording of the remote track (an AudioWorklet, PCM at the AudioContext's rate, uploaded as a 16-bit
 * WAV to the test's HTTP server).
 */

function report(type, data) {
  const event = JSON.stringify(Object.assign({ type }, data));
  if (typeof window.__report === 'function') {
    window.__report(event);
  } else {
    console.log('report ' + event);
  }
}

function wavBytes(chunks, rate) {
  let count = 0;
  for (const c of chunks) count += c.length;
  const buffer = new ArrayBuffer(44 + count * 2);
  const view = new DataView(buffer);
  const ascii = (offset, text) => {
    for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + count * 2, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, count * 2, true);
  let offset = 44;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++) {
      const s = Math.max(-1, Math.min(1, c[i]));
      view.setInt16(offset, s < 0 ? Math.round(s * 32768) : Math.round(s * 32767), true);
      offset += 2;
    }
  }
  return buffer;
}

class Recorder {
  constructor(callId, track) {
    this.callId = callId;
    this.chunks = [];
    this.done = null;
    this.ready = this.start(track);
  }

  async start(track) {
    this.context = new AudioContext({ sampleRate: 48000 });
    await this.context.audioWorklet.addModule('/recorder-worklet.js');
    // Chromium only pulls a remote WebRTC track through WebAudio when the stream also plays in a media
    // element; a muted one is enough.
    this.stream = new MediaStream([track]);
    this.element = new Audio();
    this.element.muted = true;
    this.element.srcObject = this.stream;
    this.element.play().catch((e) => console.log('audio element play(): ' + e));
    const source = this.context.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.context, 'recorder');
    this.node.port.onmessage = (e) => {
      if (e.data === 'stopped') {
        if (this.onStopped) this.onStopped();
      } else {
        this.chunks.push(e.data);
      }
    };
    // The worklet must reach the destination, or the graph never renders it.
    const silent = this.context.createGain();
    silent.gain.value = 0;
    source.connect(this.node).connect(silent).connect(this.context.destination);
    await this.context.resume();
    console.log(`recording call ${this.callId} at ${this.context.sampleRate} Hz (context ${this.context.state})`);
  }

  finish() {
    if (this.done === null) this.done = this.stopAndUpload();
    return this.done;
  }

  async stopAndUpload() {
    await this.ready;
    await new Promise((resolve) => {
      this.onStopped = resolve;
      this.node.port.postMessage('stop');
      setTimeout(resolve, 1000);
    });
    const rate = this.context.sampleRate;
    this.element.srcObject = null;
    await this.context.close();
    const name = `recording-${this.callId}.wav`;
    const body = wavBytes(this.chunks, rate);
    const response = await fetch(`/upload/${name}`, { method: 'POST', body });
    if (!response.ok) throw new Error(`upload of ${name} failed: ${response.status}`);
    const samples = (body.byteLength - 44) / 2;
    const result = { call: this.callId, name, samples, rate };
    report('recording', result);
    return result;
  }
}
