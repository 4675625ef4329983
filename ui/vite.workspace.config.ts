import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The clinic workspace: the same front-end code as the desktop, a second
// entry point, served by the clinic server at /w/ under a strict CSP
// (no inline script or style, nothing from another origin). Everything is
// bundled: no CDN and no remote content at run time.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  base: "/w/",
  build: {
    outDir: "dist-workspace",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    rollupOptions: { input: "workspace.html" },
  },
});
