// Build and test settings of the front end: the desktop app embeds ui/dist, and Vitest runs the
// unit tests in a simulated DOM (happy-dom) so that no browser is needed.
import { defineConfig } from "vitest/config";

export default defineConfig({
  // Relative asset paths: Tauri serves dist/ from its own protocol, not from a web root.
  base: "./",
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // The grid library alone is ~800 kB minified (a chunk of its own, loaded after the first
    // paint); the desktop app loads it from disk, not a network.
    chunkSizeWarningLimit: 1200,
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.ts"],
    // A loaded 2-core CI machine can take seconds to set up happy-dom and the grid; these are not
    // timed tests, so a slow start must not fail them (the default is 5 s).
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
