'use strict';
// Collects the samples of its first input channel and posts them to the page in blocks of about 100 ms,
// so the main thread is not woken for every 128-frame render quantum.
class RecorderProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(4800);
    this.fill = 0;
    this.running = true;
    this.port.onmessage = (e) => {
      if (e.data === 'stop') {
        this.flush();
        this.running = false;
        this.port.postMessage('stopped');
      }
    };
  }

  flush() {
    if (this.fill > 0) {
      this.port.postMessage(this.block.slice(0, this.fill));
      this.fill = 0;
    }
  }

  process(inputs) {
    if (!this.running) return false;
    const input = inputs[0];
    // An input without channels (track not yet flowing) still counts as time passing: record silence,
    // so the recording's clock stays the AudioContext's clock.
    const channel = input.length > 0 ? input[0] : new Float32Array(128);
    for (let i = 0; i < channel.length; i++) {
      this.block[this.fill++] = channel[i];
      if (this.fill === this.block.length) this.flush();
    }
    return true;
  }
}
registerProcessor('recorder', RecorderProcessor);
