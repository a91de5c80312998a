'use strict';
/*
 * The browser side of tests/peers/browser.py: a JsSIP user agent with one call at a time.
 *
 * Python drives it with Runtime.evaluate over the DevTools protocol (window.phone.*) and hears back
 * through the __report binding (Runtime.addBinding): every state change is one JSON event
 *   {type: 'state', state: 'registered' | 'registration-failed' | 'unregistered' | 'calling' | 'incoming'
 *          | 'progress' | 'accepted' | 'confirmed' | 'ended' | 'failed', call: <n>, ...details}
 *   {type: 'sdp', call: <n>, originator: 'local' | 'remote', sdpType: 'offer' | 'answer', sdp: '...'}
 *   {type: 'recording', call: <n>, name: '<file>', samples: <n>, rate: <Hz>}
 * What the far end sends is recorded from the remote track with an AudioWorklet (PCM at the
 * AudioContext's rate, no re-encoding) and uploaded as a 16-bit WAV to the test's HTTP server when the
 * call ends or phone.finishRecording() is called.
 */


const phone = {
  ua: null,
  session: null,
  callId: 0,
  recorder: null,
  pcConfig: { iceServers: [], iceTransportPolicy: 'all' },
  sdp: [],

  configure(options) {
    if (options.iceServers !== undefined) this.pcConfig.iceServers = options.iceServers;
    if (options.iceTransportPolicy !== undefined) this.pcConfig.iceTransportPolicy = options.iceTransportPolicy;
    if (options.sipTrace) JsSIP.debug.enable('JsSIP:Transport JsSIP:RTCSession JsSIP:UA');
  },

  register(wsUrl, uri, password, displayName) {
    const socket = new JsSIP.WebSocketInterface(wsUrl);
    this.ua = new JsSIP.UA({
      sockets: [socket],
      uri,
      password,
      display_name: displayName || undefined,
      register: true,
      session_timers: false,
      user_agent: `JsSIP ${JsSIP.version} (softphone test peer)`,
    });
    this.ua.on('newRTCSession', (e) => this.onSession(e));
    return new Promise((resolve, reject) => {
      this.ua.on('registered', (e) => {
        report('state', { state: 'registered', contact: this.ua.contact.toString() });
        resolve(e.response.status_code);
      });
      this.ua.on('unregistered', () => report('state', { state: 'unregistered' }));
      this.ua.on('registrationFailed', (e) => {
        const status = e.response ? e.response.status_code : null;
        report('state', { state: 'registration-failed', cause: e.cause, status });
        reject(new Error(`registration failed: ${e.cause} ${status}`));
      });
      this.ua.on('disconnected', (e) => report('transport', { connected: false, error: !!e.error }));
      this.ua.on('connected', () => report('transport', { connected: true }));
      this.ua.start();
    });
  },

  unregister() {
    if (this.ua === null) return Promise.resolve();
    return new Promise((resolve) => {
      this.ua.on('unregistered', resolve);
      this.ua.unregister();
      setTimeout(resolve, 3000);
    });
  },

  stop() {
    if (this.ua !== null) this.ua.stop();
  },

  callOptions() {
    return {
      // No echo cancellation, noise suppression or gain control: the test compares what arrives with
      // the WAV the fake microphone plays, and those would change it on purpose.
      mediaConstraints: {
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
        video: false,
      },
      pcConfig: this.pcConfig,
      rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false },
    };
  },

  call(target) {
    if (this.session !== null && !this.session.isEnded()) throw new Error('a call is already active');
    this.ua.call(target, this.callOptions());
    return this.callId;
  },

  answer() {
    if (this.session === null || this.session.direction !== 'incoming') throw new Error('no incoming call');
    this.session.answer(this.callOptions());
    return this.callId;
  },

  // Resolves once the re-INVITE (a=sendonly, or back to sendrecv) got its 2xx; a failed one ends the
  // call (JsSIP's choice), which shows as an 'ended' state.
  hold() {
    return this.reinvite('hold');
  },

  unhold() {
    return this.reinvite('unhold');
  },

  reinvite(method) {
    return new Promise((resolve, reject) => {
      if (!this.session[method]({}, resolve)) reject(new Error(`${method}() refused in this state`));
    });
  },

  // RFC 4733 events through the RTCDTMFSender (not SIP INFO, JsSIP's default).
  sendDTMF(digits, duration, gap) {
    this.session.sendDTMF(digits, { transportType: 'RFC2833', duration, interToneGap: gap });
  },

  hangup() {
    if (this.session !== null && !this.session.isEnded()) this.session.terminate();
  },

  onSession(e) {
    const session = e.session;
    const id = ++this.callId;
    this.session = session;
    this.recorder = null;
    const state = (name, extra) => report('state', Object.assign({ state: name, call: id }, extra || {}));
    session.on('sdp', (s) => {
      this.sdp.push({ call: id, originator: s.originator, sdpType: s.type, sdp: s.sdp });
      report('sdp', { call: id, originator: s.originator, sdpType: s.type, sdp: s.sdp });
    });
    // JsSIP sends the offer or answer only when ICE gathering completes, and Chromium keeps trying TURN
    // from every local address, also from those that cannot reach the server (tens of seconds). Go once
    // the relayed candidate is there (policy "relay"), or one second after the last candidate.
    let quiet = null;
    session.on('icecandidate', (ev) => {
      clearTimeout(quiet);
      if (this.pcConfig.iceTransportPolicy === 'relay' && / typ relay /.test(ev.candidate.candidate)) {
        ev.ready();
      } else {
        quiet = setTimeout(ev.ready, 1000);
      }
    });
    session.on('progress', (ev) => state('progress', { status: ev.response ? ev.response.status_code : null }));
    session.on('accepted', () => state('accepted'));
    session.on('confirmed', () => state('confirmed'));
    session.on('hold', (ev) => report('hold', { call: id, originator: ev.originator, held: true }));
    session.on('unhold', (ev) => report('hold', { call: id, originator: ev.originator, held: false }));
    session.on('ended', (ev) => this.onEnd(id, 'ended', ev));
    session.on('failed', (ev) => this.onEnd(id, 'failed', ev));
    const watch = (pc) => {
      pc.addEventListener('track', (t) => this.onTrack(id, t.track));
      pc.addEventListener('iceconnectionstatechange', () => report('ice', { call: id, state: pc.iceConnectionState }));
      pc.addEventListener('icegatheringstatechange', () => console.log(`call ${id}: ICE gathering ${pc.iceGatheringState}`));
      pc.addEventListener('icecandidate', (c) => console.log(`call ${id}: candidate ${c.candidate ? c.candidate.candidate : '(end)'}`));
      pc.addEventListener('icecandidateerror', (c) =>
        console.log(`call ${id}: candidate error ${c.errorCode} ${c.errorText} ${c.url} from ${c.address}:${c.port}`));
    };
    if (session.connection) watch(session.connection);
    session.on('peerconnection', (p) => watch(p.peerconnection));
    if (e.originator === 'remote') {
      // JsSIP emits 'sdp' for a received offer only once answer() applies it; the INVITE has it now.
      if (e.request.body) {
        this.sdp.push({ call: id, originator: 'remote', sdpType: 'offer', sdp: e.request.body });
        report('sdp', { call: id, originator: 'remote', sdpType: 'offer', sdp: e.request.body });
      }
      state('incoming', { from: e.request.from.uri.toString() });
    } else {
      state('calling', { to: e.request.ruri.toString() });
    }
  },

  onTrack(id, track) {
    if (track.kind !== 'audio' || id !== this.callId || this.recorder !== null) return;
    this.recorder = new Recorder(id, track);
    this.recorder.ready.catch((err) => console.log('recorder failed: ' + err));
  },

  onEnd(id, name, ev) {
    report('state', { state: name, call: id, cause: ev.cause, originator: ev.originator });
    if (id === this.callId && this.recorder !== null) {
      this.recorder.finish().catch((err) => console.log('recording upload failed: ' + err));
    }
  },

  // Seconds recorded so far in the current call (to find moments in the recording later).
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
    const pc = this.session && this.session.connection;
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
report('page', { ready: true, jssip: JsSIP.version });
