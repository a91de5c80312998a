// Entry point of build/janus.js (`npm run build`): janus.js from the npm package "janus-gateway" and the
// webrtc-adapter it expects as a global (its ES build refers to `adapter` without importing it).
import adapter from 'webrtc-adapter';
import Janus from 'janus-gateway';

window.adapter = adapter;
window.Janus = Janus;
