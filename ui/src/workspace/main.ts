// The clinic workspace's entry point (workspace.html): the desktop's fonts
// and styles, bundled, then the workspace's own few.
import "@fontsource/atkinson-hyperlegible/400.css";
import "@fontsource/atkinson-hyperlegible/700.css";
import "../app.css";
import "./workspace.css";
import { mount } from "svelte";
import Workspace from "./Workspace.svelte";

const target = document.getElementById("app");
if (!target) throw new Error("the page has no #app element");
export default mount(Workspace, { target });
