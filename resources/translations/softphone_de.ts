<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="de_DE">
<context>
    <name>AccountDialog</name>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="262" />
        <source>Edit account</source>
        <translation>Konto bearbeiten</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="262" />
        <source>Add account</source>
        <translation>Konto hinzufügen</translation>
    </message>
</context>
<context>
    <name>AccountForm</name>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="44" />
        <source>Display name</source>
        <translation>Anzeigename</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="44" />
        <source>e.g. Alice Example (optional)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="45" />
        <source>User name</source>
        <translation>Benutzername</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="45" />
        <source>e.g. alice or 4930123456</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="46" />
        <source>Domain</source>
        <translation>Domäne</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="46" />
        <source>e.g. sip.example.com</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="47" />
        <source>Password</source>
        <translation>Passwort</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="50" />
        <source>unchanged</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="52" />
        <source>Show</source>
        <translation>Zeigen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="54" />
        <source>Show password</source>
        <translation>Passwort zeigen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="66" />
        <source>&amp;Display name:</source>
        <translation>&amp;Anzeigename:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="67" />
        <source>&amp;User name:</source>
        <translation>&amp;Benutzername:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="68" />
        <source>Do&amp;main:</source>
        <translation>Do&amp;mäne:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="69" />
        <source>&amp;Password:</source>
        <translation>&amp;Passwort:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="71" />
        <source>The password is kept in your system's keyring, never in a file.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="77" />
        <source>Ad&amp;vanced</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="83" />
        <source>Show the advanced settings</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="87" />
        <source>Authentication user</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="87" />
        <source>if different from the user name</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="90" />
        <source>Transport</source>
        <translation>Transport</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="94" />
        <source>TLS (encrypted)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="95" />
        <source>WebSocket</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="96" />
        <source>WebSocket over TLS (encrypted)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="99" />
        <source>Outbound proxy</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="99" />
        <source>optional, e.g. proxy.example.com</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="101" />
        <source>WebSocket URL</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="101" />
        <source>optional, e.g. wss://sip.example.com/ws</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="106" />
        <source>Media encryption (SRTP)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="108" />
        <source>Off</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="109" />
        <source>When the other side offers it</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="110" />
        <source>Required</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="113" />
        <source>Accept calls that do not come through the provider</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="114" />
        <source>Allow direct calls</source>
        <translation>Direktanrufe erlauben</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="115" />
        <source>Register at start (receive calls)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="117" />
        <source>Verify the server's TLS certificate</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="119" />
        <source>Country code</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="119" />
        <source>e.g. 49</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="122" />
        <source>Send numbers as</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="124" />
        <source>International, 00 prefix (004930123)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="125" />
        <source>International, + prefix (+4930123)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="126" />
        <source>National inside the country (030123)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="127" />
        <source>As typed, without spaces</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="130" />
        <source>&amp;Authentication user:</source>
        <translation>&amp;Authentifizierungsname:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="131" />
        <source>&amp;Transport:</source>
        <translation>&amp;Transport:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="132" />
        <source>Outbound pro&amp;xy:</source>
        <translation>Ausgehender Pro&amp;xy:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="133" />
        <source>&amp;WebSocket URL:</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="134" />
        <source>Media &amp;encryption:</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="135" />
        <source>&amp;Country code:</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="136" />
        <source>Send &amp;numbers as:</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="153" />
        <source>Error</source>
        <translation>Fehler</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="213" />
        <source>Please enter your user name.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="215" />
        <source>Please enter the domain of your provider.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/account_dialog.py" line="217" />
        <source>The user name and the domain cannot contain spaces, '@' or ';'.</source>
        <translation type="unfinished" />
    </message>
</context>
<context>
    <name>AccountPage</name>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="57" />
        <source>Your account</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="58" />
        <source>As given by your provider. Only the first four fields are usually needed.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="72" />
        <source>Please enter your password.</source>
        <translation type="unfinished" />
    </message>
</context>
<context>
    <name>AccountRow</name>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="89" />
        <source>Double-click to edit; right-click for more</source>
        <translation type="unfinished" />
    </message>
</context>
<context>
    <name>CallWindow</name>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="75" />
        <source>Call</source>
        <translation>Anrufen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="85" />
        <source>Picture</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="90" />
        <source>Name</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="98" />
        <source>Number or address</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="108" />
        <source>Call state</source>
        <translation>Anrufstatus</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="111" />
        <source>Call duration</source>
        <translation>Gesprächsdauer</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="125" />
        <source>&amp;Answer</source>
        <translation>&amp;Annehmen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="126" />
        <source>Answer</source>
        <translation>Annehmen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="127" />
        <source>Answer the call ({key})</source>
        <translation>Anruf annehmen ({key})</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="131" />
        <source>&amp;Decline</source>
        <translation>A&amp;blehnen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="132" />
        <source>Decline</source>
        <translation>Ablehnen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="133" />
        <source>Decline the call ({key})</source>
        <translation>Anruf ablehnen ({key})</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="146" />
        <location filename="../../softphone/ui/call_window.py" line="376" />
        <source>Mute</source>
        <translation>Stumm</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="146" />
        <source>Mute the microphone</source>
        <translation>Mikrofon stummschalten</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="149" />
        <location filename="../../softphone/ui/call_window.py" line="379" />
        <source>Hold</source>
        <translation>Halten</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="149" />
        <source>Put the call on hold</source>
        <translation>Anruf halten</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="153" />
        <source>Keypad</source>
        <translation>Tastenfeld</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="153" />
        <source>Show the keypad</source>
        <translation>Tastenfeld zeigen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="157" />
        <source>Quality</source>
        <translation>Qualität</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="157" />
        <source>Show the call quality</source>
        <translation>Anrufqualität zeigen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="171" />
        <location filename="../../softphone/ui/call_window.py" line="470" />
        <source>Transfer</source>
        <translation>Weiterleiten</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="172" />
        <source>Transfer the call ({key})</source>
        <translation>Anruf weiterleiten ({key})</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="179" />
        <source>Add call</source>
        <translation>Weiterer Anruf</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="179" />
        <source>Put this call on hold and call someone else</source>
        <translation>Diesen Anruf halten und jemand anderen anrufen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="183" />
        <source>Merge</source>
        <translation>Konferenz</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="183" />
        <source>Merge the calls into a conference</source>
        <translation>Die Anrufe zu einer Konferenz verbinden</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="194" />
        <source>Keys sent</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="206" />
        <source>Call quality</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="217" />
        <source>Quality:</source>
        <translation>Qualität:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="218" />
        <source>Codec:</source>
        <translation>Codec:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="219" />
        <source>Encryption:</source>
        <translation>Verschlüsselung:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="220" />
        <source>Jitter:</source>
        <translation>Jitter:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="221" />
        <source>Packet loss:</source>
        <translation>Paketverlust:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="222" />
        <source>Round trip:</source>
        <translation>Umlaufzeit:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="223" />
        <source>Packets sent / received:</source>
        <translation>Pakete gesendet / empfangen:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="231" />
        <source>&amp;Hang up</source>
        <translation>&amp;Auflegen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="232" />
        <source>Hang up</source>
        <translation>Auflegen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="233" />
        <source>End the call ({key})</source>
        <translation>Anruf beenden ({key})</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="238" />
        <source>&amp;Close</source>
        <translation>&amp;Schließen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="239" />
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="296" />
        <source>Calling…</source>
        <translation>Wählt…</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="298" />
        <source>Ringing…</source>
        <translation>Klingelt…</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="300" />
        <source>Ringing (early media)…</source>
        <translation>Klingelt (Ansage)…</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="302" />
        <source>Incoming call</source>
        <translation>Eingehender Anruf</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="305" />
        <source>On hold</source>
        <translation>Gehalten</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="307" />
        <source>Held by the other side</source>
        <translation>Von der Gegenseite gehalten</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="308" />
        <source>Connected</source>
        <translation>Verbunden</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="309" />
        <source>Call ended: {why}</source>
        <translation>Anruf beendet: {why}</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="315" />
        <source>you hung up</source>
        <translation>Sie haben aufgelegt</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="317" />
        <source>the other side hung up</source>
        <translation>die Gegenseite hat aufgelegt</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="319" />
        <source>the connection was lost (no audio from the other side)</source>
        <translation>die Verbindung ist abgerissen (kein Ton von der Gegenseite)</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="321" />
        <source>the caller hung up</source>
        <translation>der Anrufer hat aufgelegt</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="323" />
        <source>declined</source>
        <translation>abgelehnt</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="325" />
        <location filename="../../softphone/ui/call_window.py" line="326" />
        <source>busy</source>
        <translation>besetzt</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="327" />
        <source>cancelled</source>
        <translation>abgebrochen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="328" />
        <source>nobody with this number or address</source>
        <translation>niemand unter dieser Nummer oder Adresse</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="329" />
        <source>not available right now</source>
        <translation>gerade nicht erreichbar</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="330" />
        <source>no answer</source>
        <translation>keine Antwort</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="331" />
        <source>not allowed</source>
        <translation>nicht erlaubt</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="332" />
        <location filename="../../softphone/ui/call_window.py" line="333" />
        <source>the provider refused the call (check the password)</source>
        <translation>der Anbieter hat den Anruf abgelehnt (Passwort prüfen)</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="334" />
        <source>no common audio format</source>
        <translation>kein gemeinsames Audioformat</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="335" />
        <source>cannot reach the other side</source>
        <translation>Gegenseite nicht erreichbar</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="339" />
        <source>finished</source>
        <translation>beendet</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="347" />
        <source>Call with {peer}</source>
        <translation>Anruf mit {peer}</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="376" />
        <source>Unmute</source>
        <translation>Ton an</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="379" />
        <source>Resume</source>
        <translation>Fortsetzen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="409" />
        <source>SRTP on</source>
        <translation>SRTP an</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="409" />
        <source>Off (not encrypted)</source>
        <translation>Aus (unverschlüsselt)</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="413" />
        <location filename="../../softphone/ui/call_window.py" line="423" />
        <source>{ms} ms</source>
        <translation>{ms} ms</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="417" />
        <source>{percent} % ({packets} packets)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="423" />
        <source>not measured yet</source>
        <translation>noch nicht gemessen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="429" />
        <source>Excellent</source>
        <translation>Ausgezeichnet</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="430" />
        <source>Good</source>
        <translation>Gut</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="431" />
        <source>Fair</source>
        <translation>Mittel</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="432" />
        <source>Poor</source>
        <translation>Schlecht</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="433" />
        <source>Bad</source>
        <translation>Sehr schlecht</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="434" />
        <source>Not measured yet</source>
        <translation>Noch nicht gemessen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="462" />
        <source>Transfer to a number or address…</source>
        <translation>An eine Nummer oder Adresse weiterleiten…</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="465" />
        <source>Hand over to {peer} (attended)</source>
        <translation>An {peer} übergeben (mit Rückfrage)</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/call_window.py" line="470" />
        <source>Transfer the call to (number or SIP address):</source>
        <translation>Anruf weiterleiten an (Nummer oder SIP-Adresse):</translation>
    </message>
</context>
<context>
    <name>ContactDialog</name>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="184" />
        <source>Edit contact</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="184" />
        <source>New contact</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="187" />
        <source>Mobile</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="188" />
        <source>Work</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="189" />
        <source>Home</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="190" />
        <source>SIP</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="191" />
        <source>Other</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="196" />
        <source>Name</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="198" />
        <source>Organisation</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="199" />
        <source>&amp;Name:</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="200" />
        <source>&amp;Organisation:</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="202" />
        <source>Numbers and SIP addresses</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="203" />
        <source>Type</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="203" />
        <location filename="../../softphone/ui/history_view.py" line="252" />
        <source>Number or SIP address</source>
        <translation>Nummer oder SIP-Adresse</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="213" />
        <source>Add number</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="215" />
        <source>Remove number</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="221" />
        <source>Note</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="233" />
        <source>Numbers:</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="236" />
        <source>Note:</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="246" />
        <source>Number type</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="283" />
        <source>Please enter a name.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="287" />
        <source>Please enter at least one number or SIP address.</source>
        <translation type="unfinished" />
    </message>
</context>
<context>
    <name>ContactsView</name>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="305" />
        <location filename="../../softphone/ui/history_view.py" line="306" />
        <source>Search contacts</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="312" />
        <source>Contacts</source>
        <translation>Kontakte</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="318" />
        <source>No contacts yet. Add one, or import a vCard file.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="324" />
        <source>Add</source>
        <translation>Hinzufügen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="325" />
        <source>Add contact</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="327" />
        <source>Import…</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="328" />
        <source>Import contacts from a vCard file</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="330" />
        <source>Export…</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="331" />
        <source>Export contacts as a vCard file</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="347" />
        <source>  (+{n} more)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="389" />
        <source>Edit…</source>
        <translation>Bearbeiten…</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="390" />
        <source>Delete</source>
        <translation>Löschen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="419" />
        <source>Import contacts</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="419" />
        <source>vCard files (*.vcf *.vcard);;All files (*)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="427" />
        <source>Cannot read {path}: {error}</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="437" />
        <source>Export contacts</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="437" />
        <source>vCard files (*.vcf)</source>
        <translation type="unfinished" />
    </message>
</context>
<context>
    <name>DialPad</name>
    <message>
        <location filename="../../softphone/ui/dialpad.py" line="31" />
        <source>Dial pad</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/dialpad.py" line="36" />
        <source>Star</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/dialpad.py" line="36" />
        <source>Hash</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/dialpad.py" line="45" />
        <source>Key {key}</source>
        <translation type="unfinished" />
    </message>
</context>
<context>
    <name>Dialer</name>
    <message>
        <location filename="../../softphone/ui/dialer.py" line="41" />
        <source>Call &amp;from:</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/dialer.py" line="43" />
        <source>Call from account</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/dialer.py" line="54" />
        <source>Name, number or SIP address</source>
        <translation>Name, Nummer oder SIP-Adresse</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/dialer.py" line="55" />
        <source>Number or address to call</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/dialer.py" line="56" />
        <source>Type a name to search, or a number or SIP address to call (Ctrl+L)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/dialer.py" line="65" />
        <location filename="../../softphone/ui/dialer.py" line="66" />
        <source>Call</source>
        <translation>Anrufen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/dialer.py" line="67" />
        <source>Call (Enter)</source>
        <translation>Anrufen (Eingabe)</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/dialer.py" line="77" />
        <source>Matching contacts and calls</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/dialer.py" line="95" />
        <source>(not registered)</source>
        <translation>(nicht angemeldet)</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/dialer.py" line="97" />
        <source>Direct call (no account)</source>
        <translation>Direktanruf (ohne Konto)</translation>
    </message>
</context>
<context>
    <name>FirstRunWizard</name>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="170" />
        <source>Set up Softphone</source>
        <translation>Softphone einrichten</translation>
    </message>
</context>
<context>
    <name>HistoryView</name>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="59" />
        <source>Yesterday {time}</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="77" />
        <source>&amp;Missed only</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="78" />
        <source>Show missed calls only</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="80" />
        <source>Clear</source>
        <translation>Leeren</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="81" />
        <source>Clear the call history</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="88" />
        <source>Call history</source>
        <translation>Anrufverlauf</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="96" />
        <source>No calls yet.</source>
        <translation>Noch keine Anrufe.</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="121" />
        <source>Missed</source>
        <translation>Verpasst</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="122" />
        <source>Declined</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="123" />
        <source>Cancelled</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="124" />
        <source>Busy</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="125" />
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="127" />
        <source>Incoming</source>
        <translation>Eingehend</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="127" />
        <source>Outgoing</source>
        <translation>Ausgehend</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="156" />
        <source>Call back</source>
        <translation>Zurückrufen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="158" />
        <source>Copy address</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="161" />
        <source>Add to contacts…</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/history_view.py" line="164" />
        <source>Delete</source>
        <translation>Löschen</translation>
    </message>
</context>
<context>
    <name>LadderView</name>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="55" />
        <source>Ladder diagram</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="80" />
        <source>This phone</source>
        <translation>Dieses Telefon</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="142" />
        <source>Softphone</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="153" />
        <location filename="../../softphone/ui/main_window.py" line="169" />
        <source>Accounts</source>
        <translation>Konten</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="161" />
        <location filename="../../softphone/ui/main_window.py" line="282" />
        <source>&amp;Add account…</source>
        <translation>Konto &amp;hinzufügen…</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="163" />
        <source>Add account</source>
        <translation>Konto hinzufügen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="175" />
        <source>No account yet. You can still call SIP addresses directly, e.g. bob@192.0.2.10.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="178" />
        <source>No account</source>
        <translation>Kein Konto</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="187" />
        <source>Message</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="206" />
        <source>Keypad, history and contacts</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="221" />
        <source>Keypad</source>
        <translation>Tastenfeld</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="222" />
        <location filename="../../softphone/ui/main_window.py" line="522" />
        <source>History</source>
        <translation>Verlauf</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="223" />
        <source>Contacts</source>
        <translation>Kontakte</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="231" />
        <source>Missed calls</source>
        <translation>Verpasste Anrufe</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="234" />
        <location filename="../../softphone/ui/main_window.py" line="319" />
        <location filename="../../softphone/ui/main_window.py" line="589" />
        <source>Do not disturb</source>
        <translation>Nicht stören</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="252" />
        <source>No account yet: add one to register.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="256" />
        <source>&amp;Phone</source>
        <translation>&amp;Telefon</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="257" />
        <source>&amp;Dial…</source>
        <translation>&amp;Wählen…</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="261" />
        <source>Do &amp;not disturb</source>
        <translation>&amp;Nicht stören</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="267" />
        <source>&amp;Settings…</source>
        <translation>&amp;Einstellungen…</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="271" />
        <source>SIP &amp;trace…</source>
        <translation>SIP-&amp;Mitschnitt…</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="276" />
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="281" />
        <source>&amp;Accounts</source>
        <translation>&amp;Konten</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="285" />
        <source>Set-up &amp;assistant…</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="289" />
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="290" />
        <source>&amp;Keyboard shortcuts</source>
        <translation>&amp;Tastenkürzel</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="294" />
        <source>&amp;About Softphone</source>
        <translation>Über &amp;Softphone</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="311" />
        <source>Go to the dialer</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="312" />
        <source>Enter</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="312" />
        <source>Call what is typed</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="313" />
        <source>Answer the ringing call</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="314" />
        <source>Hang up, or decline a ringing call</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="315" />
        <source>Mute or unmute (call window)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="316" />
        <source>Hold or resume (call window)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="317" />
        <source>Keypad (call window); digits send tones</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="318" />
        <source>Call quality (call window)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="320" />
        <source>Keypad, history, contacts</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="321" />
        <source>SIP trace</source>
        <translation>SIP-Mitschnitt</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="322" />
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="323" />
        <source>Quit</source>
        <translation>Beenden</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="331" />
        <source>Keyboard shortcuts</source>
        <translation>Tastenkürzel</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="339" />
        <source>About Softphone</source>
        <translation>Über Softphone</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="341" />
        <source>&lt;b&gt;Softphone&lt;/b&gt;&lt;br&gt;SIP calls from your desktop.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="377" />
        <source>&amp;Edit…</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="380" />
        <source>&amp;Register now</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="384" />
        <source>Re&amp;move</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="425" />
        <source>Remove account</source>
        <translation>Konto entfernen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="426" />
        <source>Remove the account {id}? Its password is deleted from the keyring.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="509" />
        <source>Show the call with {peer}</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="510" />
        <source>Show the call window</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="522" />
        <source>History ({n})</source>
        <translation>Verlauf ({n})</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/main_window.py" line="523" />
        <source>{n} missed</source>
        <translation>{n} verpasst</translation>
    </message>
</context>
<context>
    <name>PhoneController</name>
    <message>
        <location filename="../../softphone/ui/controller.py" line="214" />
        <source>Registering…</source>
        <translation>Meldet an…</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="216" />
        <source>Registered</source>
        <translation>Angemeldet</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="218" />
        <source>no answer from the server</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="219" />
        <source>Failed: {reason}</source>
        <translation>Fehlgeschlagen: {reason}</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="221" />
        <source>(retrying in {seconds} s)</source>
        <translation>(neuer Versuch in {seconds} s)</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="224" />
        <source>Unregistering…</source>
        <translation>Meldet ab…</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="226" />
        <source>Not registering (calls only)</source>
        <translation>Ohne Anmeldung (nur Anrufe)</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="227" />
        <source>Not registered</source>
        <translation>Nicht angemeldet</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="238" />
        <source>Cannot save the settings: {error}</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="249" />
        <source>The password cannot be saved in the system keyring ({error}); it is kept until you quit.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="256" />
        <location filename="../../softphone/ui/controller.py" line="271" />
        <source>The account {id} exists already.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="341" />
        <source>Do not disturb is on</source>
        <translation>Nicht stören ist an</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="341" />
        <source>Do not disturb is off</source>
        <translation>Nicht stören ist aus</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="362" />
        <source>Type a number or a SIP address such as bob@example.com.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="369" />
        <source>Calling a number needs an account. To call directly, type a SIP address such as bob@192.0.2.10.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="375" />
        <source>This phone was started without audio; calls are not possible.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="391" />
        <source>Cannot call {target}: {error}</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="473" />
        <source>The other side did not accept hold/resume.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="502" />
        <source>Type a number or a SIP address to transfer to.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="527" />
        <source>Call transferred to {target}</source>
        <translation>Anruf an {target} weitergeleitet</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="529" />
        <source>The transfer to {target} failed.</source>
        <translation>Die Weiterleitung an {target} ist fehlgeschlagen.</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="548" />
        <source>Calls merged into a conference</source>
        <translation>Anrufe zu einer Konferenz verbunden</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="550" />
        <source>The calls could not be merged.</source>
        <translation>Die Anrufe konnten nicht verbunden werden.</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/controller.py" line="579" />
        <source>Refused a direct call from {source}</source>
        <translation type="unfinished" />
    </message>
</context>
<context>
    <name>RegisterPage</name>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="89" />
        <source>Signing in</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="93" />
        <source>Registration state</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="98" />
        <source>Waiting for the server</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="99" />
        <source>&amp;Try again</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="100" />
        <source>Try to register again</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="137" />
        <source>&lt;b&gt;{account}&lt;/b&gt;&lt;br&gt;Registered. You can now make and receive calls.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="145" />
        <source>&lt;b&gt;{account}&lt;/b&gt;&lt;br&gt;{state}&lt;br&gt;Go back to correct the details, or try again.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="151" />
        <source>&lt;b&gt;{account}&lt;/b&gt;&lt;br&gt;{state}</source>
        <translation type="unfinished" />
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="49" />
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="51" />
        <source>&amp;Accounts</source>
        <translation>&amp;Konten</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="52" />
        <source>A&amp;udio</source>
        <translation>A&amp;udio</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="53" />
        <source>&amp;Calls</source>
        <translation>&amp;Anrufe</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="54" />
        <source>&amp;General</source>
        <translation>&amp;Allgemein</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="77" />
        <source>Accounts</source>
        <translation>Konten</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="81" />
        <source>&amp;Add…</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="82" />
        <source>Add account</source>
        <translation>Konto hinzufügen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="84" />
        <source>&amp;Edit…</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="85" />
        <source>Edit account</source>
        <translation>Konto bearbeiten</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="87" />
        <source>&amp;Remove</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="88" />
        <location filename="../../softphone/ui/settings_dialog.py" line="159" />
        <source>Remove account</source>
        <translation>Konto entfernen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="125" />
        <location filename="../../softphone/ui/settings_dialog.py" line="146" />
        <source>Account</source>
        <translation>Konto</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="160" />
        <source>Remove the account {id}? Its password is deleted from the keyring.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="181" />
        <source>&lt;b&gt;No sound devices were found.&lt;/b&gt;&lt;br&gt;Calls still connect, but the other side hears silence and you hear nothing. Plug in a headset, or check that the sound server (PipeWire or PulseAudio) is running, then open the settings again.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="188" />
        <source>No sound devices</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="193" />
        <source>No speaker or headphones were found: you will not hear the calls.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="196" />
        <source>No microphone was found: the other side will hear silence.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="199" />
        <location filename="../../softphone/ui/settings_dialog.py" line="250" />
        <source>Microphone</source>
        <translation>Mikrofon</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="200" />
        <location filename="../../softphone/ui/settings_dialog.py" line="261" />
        <source>Speaker</source>
        <translation>Lautsprecher</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="202" />
        <source>Ringing device</source>
        <translation>Klingelgerät</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="204" />
        <source>&amp;Microphone:</source>
        <translation>&amp;Mikrofon:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="205" />
        <source>&amp;Speaker:</source>
        <translation>&amp;Lautsprecher:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="206" />
        <source>&amp;Ring on:</source>
        <translation>&amp;Klingeln auf:</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="209" />
        <source>Test &amp;microphone</source>
        <translation>&amp;Mikrofon testen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="213" />
        <source>Play &amp;test tone</source>
        <translation>&amp;Testton abspielen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="219" />
        <source>Microphone level</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="232" />
        <source>System default</source>
        <translation>Systemstandard</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="306" />
        <source>Codecs, in the order they are offered (untick to never use one):</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="310" />
        <source>Codec order</source>
        <translation>Codec-Reihenfolge</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="323" />
        <source>Move &amp;up</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="324" />
        <source>Move the codec up</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="326" />
        <source>Move &amp;down</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="327" />
        <source>Move the codec down</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="336" />
        <source>Media encryption for incoming and direct calls</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="338" />
        <source>Off</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="339" />
        <source>When the other side offers it</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="340" />
        <source>Required</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="344" />
        <source>Encryption for &amp;incoming and direct calls:</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="346" />
        <source>Do &amp;not disturb (callers hear busy)</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="375" />
        <source>Appearance</source>
        <translation>Erscheinungsbild</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="376" />
        <source>Follow the system</source>
        <translation>Wie das System</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="376" />
        <source>Light</source>
        <translation>Hell</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="376" />
        <source>Dark</source>
        <translation>Dunkel</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="380" />
        <source>A&amp;ppearance:</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="383" />
        <source>Closing the window keeps the phone running in the &amp;tray</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="386" />
        <source>Start &amp;hidden in the tray</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="397" />
        <source>Codecs</source>
        <translation>Codecs</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/settings_dialog.py" line="397" />
        <source>At least one codec must stay ticked.</source>
        <translation type="unfinished" />
    </message>
</context>
<context>
    <name>TraceWindow</name>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="134" />
        <source>SIP trace</source>
        <translation>SIP-Mitschnitt</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="140" />
        <source>Filter: method, status, address, Call-ID…</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="141" />
        <source>Filter messages</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="144" />
        <source>&amp;Follow</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="146" />
        <source>Scroll to new messages</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="147" />
        <source>&amp;Copy selected</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="148" />
        <source>Copy the selected messages</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="150" />
        <source>Copy &amp;all</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="151" />
        <source>Copy every message shown</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="153" />
        <source>C&amp;lear</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="154" />
        <source>Clear the trace</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="164" />
        <source>SIP messages</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="165" />
        <source>Time</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="165" />
        <source>Peer</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="165" />
        <source>Message</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="178" />
        <source>Message text</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="192" />
        <source>&amp;List</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="193" />
        <source>La&amp;dder</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="198" />
        <source>No SIP messages yet. Register an account or place a call to see them here.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="228" />
        <source>sent</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/trace_view.py" line="228" />
        <source>received</source>
        <translation type="unfinished" />
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <location filename="../../softphone/ui/tray.py" line="27" />
        <source>&amp;Show Softphone</source>
        <translation>Softphone &amp;zeigen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="29" />
        <source>&amp;Dial…</source>
        <translation>&amp;Wählen…</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="31" />
        <source>Missed calls</source>
        <translation>Verpasste Anrufe</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="33" />
        <source>Do &amp;not disturb</source>
        <translation>&amp;Nicht stören</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="36" />
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="66" />
        <source>No account (direct calls only)</source>
        <translation>Kein Konto (nur Direktanrufe)</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="68" />
        <source>{registered} of {total} accounts registered</source>
        <translation>{registered} von {total} Konten angemeldet</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="73" />
        <location filename="../../softphone/ui/tray.py" line="84" />
        <source>{n} missed calls</source>
        <translation>{n} verpasste Anrufe</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="75" />
        <source>Do not disturb</source>
        <translation>Nicht stören</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="82" />
        <source>Softphone</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="84" />
        <source>Call history</source>
        <translation>Anrufverlauf</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="123" />
        <location filename="../../softphone/ui/tray.py" line="135" />
        <source>Incoming call</source>
        <translation>Eingehender Anruf</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="126" />
        <source>Show</source>
        <translation>Zeigen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="127" />
        <source>Answer</source>
        <translation>Annehmen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="128" />
        <source>Decline</source>
        <translation>Ablehnen</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="152" />
        <source>Missed call</source>
        <translation>Verpasster Anruf</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="159" />
        <source>Softphone is still running</source>
        <translation>Softphone läuft weiter</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/tray.py" line="160" />
        <source>Calls still ring here. Quit from the tray menu.</source>
        <translation>Anrufe klingeln weiterhin hier. Beenden über das Menü im Infobereich.</translation>
    </message>
</context>
<context>
    <name>WelcomePage</name>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="29" />
        <source>Welcome to Softphone</source>
        <translation>Willkommen bei Softphone</translation>
    </message>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="30" />
        <source>Make and take calls from your computer.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="34" />
        <source>To receive calls and to call phone numbers, sign in with the SIP account from your provider or your company's phone system. You need your user name, the domain and the password.</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="42" />
        <source>&amp;I have a SIP account: set it up now</source>
        <translation type="unfinished" />
    </message>
    <message>
        <location filename="../../softphone/ui/wizard.py" line="44" />
        <source>&amp;Skip: I only call SIP addresses directly (peer to peer)</source>
        <translation type="unfinished" />
    </message>
</context>
<context>
    <name>window</name>
    <message>
        <location filename="../../softphone/ui/app.py" line="78" />
        <source>Cannot open the network port: {error}</source>
        <translation type="unfinished" />
    </message>
</context>
</TS>