// Entry point of the front end: styles, then the home page in #app.
import "./style.css";
import { renderHome } from "./home";

const root = document.getElementById("app");
if (root) {
  void renderHome(root);
}
