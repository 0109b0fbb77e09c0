// The load generator, in its own process so the server's CPU time can be measured apart from
// it: receives autocannon options from bench/portal/run.ts over IPC and answers with the result.
import autocannon from 'autocannon'

process.on('message', (opts: Parameters<typeof autocannon>[0]) => {
  autocannon(opts, (err, result) => {
    if (err) process.send!({ error: err.message })
    else process.send!({ result })
  })
})
