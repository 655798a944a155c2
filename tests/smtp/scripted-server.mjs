// scripted-server.mjs - a real SMTP server (nodemailer's smtp-server) whose
// replies the tests choose, for what maildev cannot do: STARTTLS, AUTH and
// refusals.
//
//   node scripted-server.mjs --port N [--tls-key K --tls-cert C] [--smtps]
//                            [--user U --pass P] [--out DIR]
//
// With a key and certificate it offers STARTTLS (or, with --smtps, speaks TLS
// from the first byte); AUTH PLAIN/LOGIN is accepted only over TLS and only
// for --user/--pass. The recipient's local part scripts the reply:
//   bounce...@  550 5.1.1 at RCPT TO     defer...@  451 4.3.0 at RCPT TO
//   reject-data...@  554 after DATA      anything else: 250 with a queue id
// Every accepted message is written to DIR/<queue id>.eml; one JSON line per
// event goes to stdout ({"event":"listening"} first).
import { SMTPServer } from 'smtp-server';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({
  options: {
    port: { type: 'string' }, 'tls-key': { type: 'string' }, 'tls-cert': { type: 'string' },
    smtps: { type: 'boolean', default: false }, user: { type: 'string' }, pass: { type: 'string' },
    out: { type: 'string' },
  },
});
const log = (event, fields = {}) => process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
const tls = o['tls-key'] ? { key: readFileSync(o['tls-key']), cert: readFileSync(o['tls-cert']) } : {};
if (o.out) mkdirSync(o.out, { recursive: true });

const refuse = (code, text) => Object.assign(new Error(text), { responseCode: code });

const server = new SMTPServer({
  ...tls,
  secure: o.smtps,
  hideSTARTTLS: !o['tls-key'],
  authOptional: !o.user,
  authMethods: ['PLAIN', 'LOGIN'],
  banner: 'adcraft scripted test server',
  logger: false,
  onAuth(auth, session, cb) {
    const ok = auth.username === o.user && auth.password === o.pass;
    log('auth', { user: auth.username, ok, secure: session.secure });
    if (!ok) return cb(refuse(535, '5.7.8 Authentication credentials invalid'));
    cb(null, { user: auth.username });
  },
  onRcptTo(address, session, cb) {
    const local = address.address.split('@')[0];
    if (local.startsWith('bounce')) return cb(refuse(550, '5.1.1 No such user here'));
    if (local.startsWith('defer')) return cb(refuse(451, '4.3.0 Try again later'));
    cb();
  },
  onData(stream, session, cb) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      const rcpt = session.envelope.rcptTo.map((r) => r.address);
      if (rcpt.some((r) => r.startsWith('reject-data'))) return cb(refuse(554, '5.6.0 Message content rejected'));
      const id = randomBytes(6).toString('hex');
      if (o.out) writeFileSync(`${o.out}/${id}.eml`, Buffer.concat(chunks));
      log('message', { id, from: session.envelope.mailFrom.address, to: rcpt, secure: session.secure,
        user: session.user || null, bytes: Buffer.concat(chunks).length, remotePort: session.remotePort });
      cb(null, `2.0.0 Ok: queued as ${id}`);
    });
  },
});
server.on('error', (e) => log('error', { message: e.message }));
server.listen(Number(o.port), '127.0.0.1', () => log('listening', { port: Number(o.port) }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
