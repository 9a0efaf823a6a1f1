// Entry point of the front end: styles, the session header, then the home page in #app.
import "./style.css";
import { renderHome } from "./home";
import { startHeader } from "./session_header";

const header = document.getElementById("session");
if (header) {
  startHeader(header);
}
const root = document.getElementById("app");
if (root) {
  void renderHome(root);
}
