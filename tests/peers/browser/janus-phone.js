'use strict';
/*
 * The browser side of tests/peers/janus_browser.py: a page that speaks no SIP at all.  janus.js talks
 * the Janus API (HTTP long-polling) to a Janus gateway and attaches to its SIP plugin, which registers
 * and calls on the page's behalf; the page's media is plain WebRTC towards Janus.
 *
 * Same conventions as phone.js (tests/peers/browser.py drives both): Python calls window.phone.* with
 * Runtime.evaluate and hears back through the __report binding, one JSON event per change:
 *   {type: 'page', ready: true, janus: '<janus.js>'}
 *   {type: 'state', state: 'registered' | 'registration-failed' | 'unregistered' | 'calling' | 'incoming'
 *          | 'progress' | 'accepted' | 'confirmed' | 'ended' | 'failed', call: <n>, ...details}
 *   {type: 'sdp', call: <n>, originator: 'local' | 'remote', sdpType: 'offer' | 'answer', sdp: '...'}
 *   {type: 'sip', event: '<SIP plugin event>', ...}       every event of the SIP plugin, as it came
 *   {type: 'webrtc', call: <n>, up: true | false}         Janus's webrtcup / hangup of the PeerConnection
 *   {type: 'recording', call: <n>, name: '<file>', samples: <n>, rate: <Hz>}
 * 'accepted' is the SIP plugin's "accepted" (the 2xx, sent or received); 'confirmed' follows once the
 * call is accepted and the PeerConnection to Janus is up (ICE and DTLS done: media can flow).  'sdp'
 * events are the browser's side of the WebRTC leg (the SIP leg's SDP is Janus's own).
 */


// One call's state, shaped like what BrowserPeer.recording() asks of phone.js's JsSIP session.
class Call {
  constructor(id, direction) {
    this.id = id;
    this.direction = direction;
    this.accepted = false;
    this.webrtcUp = false;
    this.confirmed = false;
    this.remoteSet = false;
    this.ended = false;
  }

  isEnded() {
    return this.ended;
  }
}

const phone = {
  janus: null,
  sip: null, // the janus.plugin.sip handle
  session: null, // the current Call
  callId: 0,
  recorder: null,
  pendingOffer: null, // the WebRTC offer Janus made from an incoming INVITE, until answer()
  options: { iceServers: [], iceTransportPolicy: 'all', sipTrace: false },
  waiters: [], // [{events: [...], resolve, reject}] for requests answered by a later plugin event
  sdp: [],

  configure(options) {
    Object.assign(this.options, options);
  },

  // Creates the Janus session and attaches the SIP plugin; resolves with the handle id.
  connect(server) {
    if (this.sip !== null) return Promise.resolve(this.sip.getId());
    return new Promise((resolve, reject) => {
      Janus.init({
        // janus.js's own log; its "debug" level prints every Janus API message, SIP events included
        debug: this.options.sipTrace ? ['log', 'warn', 'error', 'debug'] : ['warn', 'error'],
        dependencies: Janus.useDefaultDependencies({ adapter: window.adapter }),
        callback: () => {
          this.janus = new Janus({
            server,
            // an explicit empty list: janus.js falls back to a public STUN server otherwise
            iceServers: this.options.iceServers,
            iceTransportPolicy: this.options.iceTransportPolicy,
            success: () => this.attach(resolve, reject),
            error: (err) => {
              report('transport', { connected: false, error: String(err) });
              reject(new Error(`Janus session: ${err}`));
            },
            destroyed: () => report('transport', { connected: false, error: false }),
          });
        },
      });
    });
  },

  attach(resolve, reject) {
    this.janus.attach({
      plugin: 'janus.plugin.sip',
      opaqueId: 'softphone-test-' + Janus.randomString(8),
      success: (handle) => {
        this.sip = handle;
        report('transport', { connected: true, session: this.janus.getSessionId(), handle: handle.getId() });
        resolve(handle.getId());
      },
      error: (err) => reject(new Error(`attach janus.plugin.sip: ${err}`)),
      onmessage: (msg, jsep) => this.onMessage(msg, jsep),
      onremotetrack: (track, mid, on) => this.onTrack(track, mid, on),
      onlocaltrack: (track, on) => console.log(`local ${track.kind} track ${on ? 'added' : 'removed'}`),
      iceState: (state) => report('ice', { call: this.callId, state }),
      webrtcState: (up, reason) => this.onWebrtc(up, reason),
      mediaState: (medium, receiving, mid) => console.log(`Janus ${receiving ? 'receives' : 'stopped receiving'} ${medium} (mid ${mid})`),
      oncleanup: () => console.log('PeerConnection to Janus closed'),
    });
  },

  // Sends a SIP plugin request; resolves with the plugin event that answers it (one of `events`),
  // rejects on one of `failures` or a plugin error.
  request(message, jsep, events, failures) {
    return new Promise((resolve, reject) => {
      const waiter = { events, failures: failures || [], resolve, reject };
      if (events.length > 0) this.waiters.push(waiter);
      this.sip.send({
        message,
        jsep,
        success: () => { if (events.length === 0) resolve(null); },
        error: (err) => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`${message.request}: ${err}`));
        },
      });
    });
  },

  // uri: the SIP address to register (sip:user@domain); proxy: where Janus sends its SIP requests.
  async register(server, uri, password, proxy, displayName) {
    await this.connect(server);
    // "proxy" only takes the REGISTER there; the plugin sends its INVITEs to "outbound_proxy"
    const message = { request: 'register', username: uri, secret: password, proxy, outbound_proxy: proxy };
    if (displayName) message.display_name = displayName;
    const result = await this.request(message, undefined, ['registered'], ['registration_failed']);
    return result.register_sent === false ? 0 : 200;
  },

  unregister() {
    if (this.sip === null) return Promise.resolve();
    return Promise.race([
      this.request({ request: 'unregister' }, undefined, ['unregistered'], []),
      new Promise((resolve) => setTimeout(resolve, 3000)),
    ]);
  },

  trackOptions() {
    // No echo cancellation, noise suppression or gain control: the test compares what arrives with the
    // WAV the fake microphone plays, and those would change it on purpose.
    return [{
      type: 'audio',
      capture: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      recv: true,
    }];
  },

  newCall(direction) {
    const id = ++this.callId;
    this.session = new Call(id, direction);
    this.recorder = null;
    return this.session;
  },

  state(name, extra) {
    report('state', Object.assign({ state: name, call: this.callId }, extra || {}));
  },

  sdpEvent(originator, jsep) {
    const event = { call: this.callId, originator, sdpType: jsep.type, sdp: jsep.sdp };
    this.sdp.push(event);
    report('sdp', event);
  },

  // srtp: undefined (plain RTP/AVP on the SIP leg), 'sdes_optional' or 'sdes_mandatory'.
  call(target, srtp) {
    if (this.session !== null && !this.session.isEnded()) throw new Error('a call is already active');
    const call = this.newCall('outgoing');
    this.sip.createOffer({
      tracks: this.trackOptions(),
      success: (jsep) => {
        this.sdpEvent('local', jsep);
        const message = { request: 'call', uri: target };
        if (srtp) message.srtp = srtp;
        this.sip.send({ message, jsep, error: (err) => this.fail(call, `call: ${err}`) });
        this.state('calling', { to: target });
      },
      error: (err) => this.fail(call, `createOffer: ${err}`),
    });
    return call.id;
  },

  answer() {
    const call = this.session;
    if (call === null || call.direction !== 'incoming' || this.pendingOffer === null) throw new Error('no incoming call');
    const offer = this.pendingOffer;
    this.pendingOffer = null;
    this.sip.createAnswer({
      jsep: offer,
      tracks: this.trackOptions(),
      success: (jsep) => {
        this.sdpEvent('local', jsep);
        this.sip.send({ message: { request: 'accept' }, jsep, error: (err) => this.fail(call, `accept: ${err}`) });
      },
      error: (err) => this.fail(call, `createAnswer: ${err}`),
    });
    return call.id;
  },

  // CANCEL or BYE (the SIP plugin's "hangup"), or a 486 for a call not answered yet ("decline").
  hangup() {
    const call = this.session;
    if (call === null || call.isEnded()) return;
    const request = call.direction === 'incoming' && !call.accepted ? 'decline' : 'hangup';
    this.sip.send({ message: { request } });
  },

  sendDTMF(digits, duration, gap) {
    this.sip.dtmf({ dtmf: { tones: digits, duration, gap } });
  },

  fail(call, why) {
    console.log(`call ${call.id} failed: ${why}`);
    this.end(call, 'failed', { cause: why, originator: 'local' });
  },

  end(call, name, details) {
    if (call.ended) return;
    call.ended = true;
    report('state', Object.assign({ state: name, call: call.id }, details));
    this.sip.hangup(); // closes the PeerConnection to Janus
    if (call.id === this.callId && this.recorder !== null) {
      this.recorder.finish().catch((err) => console.log('recording upload failed: ' + err));
    }
  },

  maybeConfirmed(call) {
    if (call.accepted && call.webrtcUp && !call.confirmed) {
      call.confirmed = true;
      this.state('confirmed');
    }
  },

  onWebrtc(up, reason) {
    report('webrtc', { call: this.callId, up, reason: reason || null });
    const call = this.session;
    if (call === null) return;
    if (up) {
      call.webrtcUp = true;
      this.maybeConfirmed(call);
    }
  },

  onMessage(msg, jsep) {
    const result = msg.result || {};
    const event = result.event;
    if (msg.error) {
      report('sip', { event: 'error', error: msg.error, code: msg.error_code });
      this.settle(null, msg);
      if (this.session !== null && !this.session.isEnded() && !this.session.accepted) {
        this.fail(this.session, `${msg.error_code}: ${msg.error}`);
      }
      return;
    }
    if (!event) return;
    report('sip', Object.assign({ event }, result));
    const call = this.session;
    switch (event) {
      case 'registered':
        this.state('registered', { username: result.username });
        break;
      case 'registration_failed':
        this.state('registration-failed', { status: result.code, cause: result.reason });
        break;
      case 'unregistered':
        this.state('unregistered');
        break;
      case 'calling':
        break; // reported when the request went out
      case 'ringing':
      case 'proceeding':
      case 'progress':
        if (call !== null && !call.isEnded()) this.state('progress', { status: result.code || null, event });
        if (jsep) this.remoteJsep(call, jsep); // early media comes with its answer
        break;
      case 'incomingcall': {
        if (call !== null && !call.isEnded()) break; // the plugin answers a second call with 486 itself
        this.newCall('incoming');
        this.pendingOffer = jsep || null;
        if (jsep) this.sdpEvent('remote', jsep);
        this.state('incoming', { from: result.username, displayname: result.displayname || null, srtp: result.srtp || null });
        break;
      }
      case 'accepted':
        if (call === null || call.isEnded()) break;
        if (jsep) this.remoteJsep(call, jsep);
        call.accepted = true;
        this.state('accepted');
        this.maybeConfirmed(call);
        break;
      case 'hangup':
        if (call !== null && !call.isEnded()) {
          this.end(call, call.accepted ? 'ended' : 'failed', { cause: `${result.code} ${result.reason}`, status: result.code });
        }
        break;
      default:
        break;
    }
    this.settle(event, msg);
  },

  remoteJsep(call, jsep) {
    if (call.remoteSet) return;
    call.remoteSet = true;
    this.sdpEvent('remote', jsep);
    this.sip.handleRemoteJsep({ jsep, error: (err) => this.fail(call, `remote SDP: ${err}`) });
  },

  settle(event, msg) {
    const keep = [];
    for (const w of this.waiters) {
      if (event !== null && w.events.includes(event)) {
        w.resolve(msg.result);
      } else if (event === null || w.failures.includes(event)) {
        const r = msg.result || {};
        w.reject(new Error(msg.error ? `${msg.error_code}: ${msg.error}` : `${event}: ${r.code} ${r.reason}`));
      } else {
        keep.push(w);
      }
    }
    this.waiters = keep;
  },

  onTrack(track, mid, on) {
    console.log(`remote ${track.kind} track (mid ${mid}) ${on ? 'added' : 'removed'}`);
    if (!on || track.kind !== 'audio' || this.recorder !== null || this.session === null) return;
    this.recorder = new Recorder(this.callId, track);
    this.recorder.ready.catch((err) => console.log('recorder failed: ' + err));
  },

  recordedSeconds() {
    if (this.recorder === null || !this.recorder.context) return 0;
    let count = 0;
    for (const c of this.recorder.chunks) count += c.length;
    return count / this.recorder.context.sampleRate;
  },

  finishRecording() {
    if (this.recorder === null) return Promise.reject(new Error('no remote audio track to record'));
    return this.recorder.finish();
  },

  async stats() {
    const pc = this.sip && this.sip.webrtcStuff.pc;
    if (!pc) return null;
    const all = await pc.getStats();
    const out = { inbound: null, outbound: null, codec: null, pair: null, local: null, remote: null };
    const byId = new Map();
    all.forEach((s) => byId.set(s.id, s));
    all.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.inbound = { packetsReceived: s.packetsReceived, packetsLost: s.packetsLost, jitter: s.jitter,
          concealedSamples: s.concealedSamples, totalSamplesReceived: s.totalSamplesReceived };
        const codec = byId.get(s.codecId);
        if (codec) out.codec = { mimeType: codec.mimeType, clockRate: codec.clockRate, sdpFmtpLine: codec.sdpFmtpLine };
      } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        out.outbound = { packetsSent: s.packetsSent, bytesSent: s.bytesSent };
      } else if (s.type === 'transport' && s.selectedCandidatePairId) {
        const pair = byId.get(s.selectedCandidatePairId);
        if (pair) {
          out.pair = { state: pair.state, nominated: pair.nominated };
          const cand = (c) => c && { type: c.candidateType, address: c.address, port: c.port, protocol: c.protocol };
          out.local = cand(byId.get(pair.localCandidateId));
          out.remote = cand(byId.get(pair.remoteCandidateId));
        }
      }
    });
    return out;
  },
};

window.phone = phone;
report('page', { ready: true, janus: typeof Janus === 'function' });
