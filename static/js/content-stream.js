// The content page: sends the template's form and shows the draft as it streams in (server-sent events read
// from fetch's body), then links to the saved document. Without this script the form posts normally and the
// page waits for the whole draft. A refused request (invalid fields, empty wallet, no AI key) answers with the
// page itself, whose form (with its errors) replaces the current one.
(function () {
  "use strict";

  function words(text) {
    var found = text.match(/[A-Za-z\u00C0-\u024F0-9]+(?:['\u2019][A-Za-z]+)*/g);
    return found ? found.length : 0;
  }

  function parseFrame(frame) {
    var event = "message", data = "";
    frame.split("\n").forEach(function (line) {
      if (line.indexOf("event: ") === 0) event = line.slice(7);
      else if (line.indexOf("data: ") === 0) data += line.slice(6);
    });
    try { return { event: event, data: data ? JSON.parse(data) : {} }; } catch (e) { return null; }
  }

  function replaceCompose(html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var fresh = page.getElementById("main");
    var main = document.getElementById("main");
    if (fresh && main) main.innerHTML = fresh.innerHTML;
  }

  async function stream(form) {
    var draft = document.getElementById("content-draft");
    var text = draft.querySelector("[data-draft-text]");
    var status = draft.querySelector("[data-draft-status]");
    var errorBox = draft.querySelector("[data-draft-error]");
    var button = form.querySelector("button[type=submit]");
    var written = "";
    button.disabled = true;
    draft.hidden = false;
    text.textContent = "";
    errorBox.hidden = true;
    status.textContent = "writing…";
    status.classList.add("typing");
    var response;
    try {
      response = await fetch(form.action || window.location.href, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "Accept": "text/event-stream" },
      });
    } catch (e) {
      errorBox.textContent = "The server could not be reached. Try again.";
      errorBox.hidden = false;
      button.disabled = false;
      return;
    }
    if ((response.headers.get("Content-Type") || "").indexOf("text/event-stream") !== 0) {
      replaceCompose(await response.text());
      return;
    }
    // Accepted: the errors of an earlier attempt no longer apply.
    form.querySelectorAll(".errorlist").forEach(function (list) { list.remove(); });
    form.querySelectorAll(".field-has-error").forEach(function (field) { field.classList.remove("field-has-error"); });
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var end;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        var message = parseFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (!message) continue;
        var data = message.data;
        if (message.event === "content_block_delta" && data.delta && data.delta.type === "text_delta") {
          written += data.delta.text;
          text.textContent = written;
          text.scrollTop = text.scrollHeight;
          draft.querySelector("[data-draft-words]").textContent = words(written);
        } else if (message.event === "error") {
          errorBox.textContent = (data.error && data.error.message) || "The draft broke off.";
          errorBox.hidden = false;
        } else if (message.event === "tollgate.content" && data.document) {
          var url = document.getElementById("content-document-url").innerHTML.trim()
            .replace(/\/0\/$/, "/" + data.document.id + "/");
          var link = draft.querySelector("[data-draft-link]");
          link.href = url;
          draft.querySelector("[data-draft-done]").hidden = false;
        }
      }
    }
    status.classList.remove("typing");
    status.textContent = written ? "saved to your library" : "nothing was written";
    button.disabled = false;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-content-stream]");
    if (!form || !window.fetch || !window.TextDecoder || !window.ReadableStream) return;
    event.preventDefault();
    stream(form);
  });
})();
