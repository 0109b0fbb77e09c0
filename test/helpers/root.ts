/**
 * The project's directory. tap starts every test file there, and `npm test` runs the files
 * compiled, from .test-build/ (scripts/test.sh): a path made beside the test file (import.meta.url)
 * would point into the build, where there are no TypeScript sources, fixtures or scripts.
 */
export const ROOT = process.cwd()
