// Starts a private AT Protocol network (PLC, PDS, AppView) from @atproto/dev-env, creates test users and
// prints one JSON line with the service URLs and accounts. Needs DB_POSTGRES_URL and REDIS_HOST.
// Then reads commands on stdin, one per line, answering each with one JSON line:
//   process   -> wait until the AppView has indexed everything the PDS holds
//   quit      -> shut the network down and exit
'use strict'

const readline = require('node:readline')
const { TestNetwork } = require('@atproto/dev-env')

async function xrpc(base, nsid, body, token) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(`${base}/xrpc/${nsid}`, { method: 'POST', headers, body: JSON.stringify(body) })
  const data = await res.json()
  if (!res.ok) throw new Error(`${nsid}: ${res.status} ${JSON.stringify(data)}`)
  return data
}

async function createUser(pds, name, privileged) {
  const password = `${name}-password`
  const account = await xrpc(pds, 'com.atproto.server.createAccount', {
    email: `${name}@example.test`,
    handle: `${name}.test`,
    password,
  })
  await xrpc(
    pds,
    'com.atproto.repo.createRecord',
    {
      repo: account.did,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
      record: { $type: 'app.bsky.actor.profile', displayName: name[0].toUpperCase() + name.slice(1) },
    },
    account.accessJwt,
  )
  const app = await xrpc(pds, 'com.atproto.server.createAppPassword', { name: 'parley-tests', privileged }, account.accessJwt)
  return { did: account.did, handle: account.handle, password, appPassword: app.password }
}

// Bluesky's chat service is not open source; the PDS proxies chat.bsky.* calls (atproto-proxy header) to
// the service that did:web:api.bsky.chat names. Here that DID resolves to the chat emulator's address.
function routeChatTo(network, chatUrl) {
  if (!chatUrl) return
  const resolver = network.pds.ctx.idResolver.did
  const resolve = resolver.resolve.bind(resolver)
  resolver.resolve = async (did, forceRefresh) =>
    did === 'did:web:api.bsky.chat'
      ? {
          '@context': ['https://www.w3.org/ns/did/v1'],
          id: did,
          service: [{ id: '#bsky_chat', type: 'BskyChatService', serviceEndpoint: chatUrl }],
        }
      : resolve(did, forceRefresh)
}

async function main() {
  const network = await TestNetwork.create({ dbPostgresSchema: 'parley' })
  const pds = network.pds.url
  routeChatTo(network, process.env.CHAT_URL)
  const users = {}
  // bob's app password is not allowed direct messages (Bluesky's "privileged" flag), the others' are.
  for (const name of ['brand', 'ann', 'bob']) users[name] = await createUser(pds, name, name !== 'bob')
  await network.processAll()
  process.stdout.write(JSON.stringify({ pds, appview: network.bsky.url, plc: network.plc.url, users }) + '\n')

  const lines = readline.createInterface({ input: process.stdin })
  let closing = false
  const quit = async (code) => {
    if (closing) return
    closing = true
    await network.close().catch(() => {})
    process.exit(code)
  }
  lines.on('line', async (line) => {
    const command = line.trim()
    try {
      if (command === 'process') {
        await network.processAll()
        process.stdout.write(JSON.stringify({ ok: true }) + '\n')
      } else if (command === 'quit') {
        await quit(0)
      } else {
        process.stdout.write(JSON.stringify({ ok: false, error: `unknown command ${command}` }) + '\n')
      }
    } catch (err) {
      process.stdout.write(JSON.stringify({ ok: false, error: String(err) }) + '\n')
    }
  })
  lines.on('close', () => quit(0))
  process.on('SIGTERM', () => quit(0))
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`)
  process.exit(1)
})
