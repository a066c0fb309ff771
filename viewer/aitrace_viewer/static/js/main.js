// Entry point of every page (a module script, so it runs after the document is parsed).
import { start } from "./pages.js";

start();
