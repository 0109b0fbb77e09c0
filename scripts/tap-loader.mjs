// tap's node-arg (.taprc). A test file given as TypeScript (`npx tap test/x.test.ts`) runs through
// tsx, as `npm start` runs the product. The compiled files `npm test` runs (.test-build/, emitted
// by the type check it does anyway) load without it: tsx's loader costs about 1.5 s of CPU in
// every test process, and there are about 190 of them.
if (/\.[cm]?tsx?$/.test(process.argv[1] ?? '')) await import('tsx')
