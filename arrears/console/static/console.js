// The console's own few lines of JavaScript. Every page works without them; they only
// save a click or a reload.
"use strict";

// <section data-refresh="30" id="x">: fetch the page again every 30 s and swap in the
// element with the same id (the Book refreshes itself). Stops while the tab is hidden.
function refreshEvery(element) {
  const seconds = Number(element.dataset.refresh);
  if (!element.id || !(seconds > 0)) return;
  setInterval(async () => {
    if (document.hidden) return;
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    if (!response.ok || response.redirected) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById(element.id);
    if (fresh) element.replaceChildren(...fresh.childNodes);
  }, seconds * 1000);
}

// <form data-autosubmit>: a changed filter submits the form (its button stays for
// keyboards and for browsers without JavaScript).
function autosubmit(form) {
  form.addEventListener("change", () => form.requestSubmit());
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-refresh]").forEach(refreshEvery);
  document.querySelectorAll("form[data-autosubmit]").forEach(autosubmit);
});
