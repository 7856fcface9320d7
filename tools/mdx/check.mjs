// Compile MDX files with the reference compiler (@mdx-js/mdx 3) and print the result as JSON.
// Usage: node check.mjs FILE...   ->   [{"path": ..., "ok": true|false, "errors": [{line, column, message}]}]
// Used by `author review` (src/lesson_author/checks/mdx_compile.py); one node process per review.
import { readFile } from 'node:fs/promises'
import { compile } from '@mdx-js/mdx'

const results = []
for (const path of process.argv.slice(2)) {
  const result = { path, ok: true, errors: [] }
  try {
    await compile(await readFile(path, 'utf8'))
  } catch (error) {
    result.ok = false
    const place = error.place && error.place.start ? error.place.start : error.place || {}
    const message = String(error.reason || error.message || error)
    const where = /\((\d+):(\d+)(?:-\d+:\d+)?\)\s*$/.exec(message) || []
    result.errors.push({
      line: error.line ?? place.line ?? (where[1] ? Number(where[1]) : null),
      column: error.column ?? place.column ?? (where[2] ? Number(where[2]) : null),
      message
    })
  }
  results.push(result)
}
process.stdout.write(JSON.stringify(results) + '\n')
