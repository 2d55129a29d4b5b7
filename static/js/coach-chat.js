// The coach's chat on the workspace page (templates/creators/_chat.html): sends a message and shows the coach's
// answer as it streams (server-sent events read from fetch's body, as static/js/content-stream.js does), then
// loads the exchange's action cards and has the board and the decision cards re-read themselves (htmx, on the
// event coach-workspace-changed). The events are creators.chat.services's. Enter sends, Shift+Enter breaks the
// line. A refusal (the daily limit, no AI key, an empty wallet) is said plainly in the chat box. Without this
// script the form posts and the page comes back with the whole answer.
(function () {
  "use strict";

  var form = document.getElementById("coach-chat-form");
  if (!form || !window.fetch || !window.TextDecoder || !window.ReadableStream) return;
  var log = document.getElementById("coach-messages");
  var input = document.getElementById("coach-input");
  var typing = document.getElementById("coach-typing");
  var errorBox = document.getElementById("coach-chat-error");
  var button = form.querySelector("button[type=submit]");
  var left = document.getElementById("coach-messages-left");
  var sending = false;

  function parseFrame(frame) {
    var event = "message", data = "";
    frame.split("\n").forEach(function (line) {
      if (line.indexOf("event: ") === 0) event = line.slice(7);
      else if (line.indexOf("data: ") === 0) data += line.slice(6);
    });
    try { return { event: event, data: data ? JSON.parse(data) : {} }; } catch (e) { return null; }
  }

  // Follow the conversation (streamed words, cards loaded above the answer) unless the reader scrolled up to read
  // an older message; sending brings them back to the end.
  var following = true;
  function nearBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 80; }
  function scrollDown() { following = true; log.scrollTop = log.scrollHeight; }
  function stick() { if (following) log.scrollTop = log.scrollHeight; }
  log.addEventListener("scroll", function () { following = nearBottom(); });
  // What changes the end of the log: new words and cards (mutations), the log's own height (the typing line and
  // the error box come and go below it) and a message growing (cards swapped in by htmx).
  var resized = window.ResizeObserver ? new ResizeObserver(stick) : null;
  if (resized) {
    resized.observe(log);
    Array.prototype.forEach.call(log.children, function (item) { resized.observe(item); });
  }
  new MutationObserver(function (records) {
    if (resized) {
      records.forEach(function (record) {
        Array.prototype.forEach.call(record.addedNodes, function (node) {
          if (node.parentNode === log) resized.observe(node);
        });
      });
    }
    stick();
  }).observe(log, { childList: true, subtree: true, characterData: true });

  function bubble(role, label) {
    var item = document.createElement("li");
    item.className = "coach-message coach-message-" + role;
    var meta = document.createElement("span");
    meta.className = "coach-message-meta small muted";
    meta.textContent = label;
    var text = document.createElement("div");
    text.className = "coach-message-text";
    item.appendChild(meta);
    item.appendChild(text);
    log.appendChild(item);
    return item;
  }

  function identify(item, id) {
    item.id = "coach-message-" + id;
    item.setAttribute("data-message-id", id);
  }

  // A refusal in red; "kept, but no AI" (ai_unavailable: the box's notice already says why) as a warning.
  function showError(message, warning) {
    errorBox.textContent = message;
    errorBox.classList.toggle("message-error", !warning);
    errorBox.classList.toggle("message-warning", !!warning);
    errorBox.hidden = false;
  }

  function setTyping(on) {
    typing.hidden = !on;
    log.setAttribute("aria-busy", on ? "true" : "false");
  }

  // The cards are rendered by the server (one template for the page and for this), then the board re-reads.
  function actionsLoad(messageId, actions) {
    if (!actions || !actions.some(function (action) { return action.status !== "ignored"; })) return;
    var item = document.getElementById("coach-message-" + messageId);
    if (!item || !window.htmx) return;
    var slot = document.getElementById("coach-actions-" + messageId);
    if (!slot) {
      slot = document.createElement("div");
      slot.id = "coach-actions-" + messageId;
      item.appendChild(slot);
    }
    var url = form.getAttribute("data-actions-url").replace(/\/0\/actions\/$/, "/" + messageId + "/actions/");
    window.htmx.ajax("GET", url, { target: slot, swap: "outerHTML" });
  }

  function workspaceChanged() {
    document.body.dispatchEvent(new CustomEvent("coach-workspace-changed", { bubbles: true }));
  }

  function countDown() {
    if (!left) return;
    var count = Math.max(0, parseInt(left.textContent, 10) - 1);
    left.textContent = String(count);
  }

  async function refused(response, mine, text) {
    var body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    var error = (body && body.error) || {};
    var stored = error.details && error.details.user_message;
    if (stored) {
      // Without an AI key (or with a refusal after the message was kept) what it stated is still recorded.
      identify(mine, stored.id);
      countDown();
      actionsLoad(stored.id, stored.detected_actions);
      workspaceChanged();
    } else {
      mine.remove();
      input.value = text;  // nothing was kept: the text comes back to be sent later
    }
    showError(error.message || "The coach could not take this message. Try again.",
              error.code === "ai_unavailable");
  }

  async function send() {
    var text = input.value.trim();
    if (!text || sending) return;
    sending = true;
    var body = new FormData(form);
    body.set("content", text);
    errorBox.hidden = true;
    var mine = bubble("user", "You");
    mine.querySelector(".coach-message-text").textContent = text;
    input.value = "";
    button.disabled = true;
    setTyping(true);
    scrollDown();
    var answer = null, written = "";
    try {
      var response = await fetch(form.action, {
        method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "text/event-stream" },
      });
      if ((response.headers.get("Content-Type") || "").indexOf("text/event-stream") !== 0) {
        await refused(response, mine, text);
        return;
      }
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
          if (message.event === "coach.user_message") {
            identify(mine, data.id);
            countDown();
          } else if (message.event === "content_block_delta" && data.delta && data.delta.type === "text_delta") {
            if (!answer) {
              answer = bubble("assistant", "Coach");
              answer.classList.add("coach-message-streaming");
              setTyping(false);
              log.setAttribute("aria-busy", "true");
            }
            written += data.delta.text;
            answer.querySelector(".coach-message-text").textContent = written;
          } else if (message.event === "error") {
            showError((data.error && data.error.message) || "The answer broke off.");
          } else if (message.event === "coach.actions") {
            actionsLoad(data.message_id, data.detected_actions);
            workspaceChanged();
          } else if (message.event === "coach.message") {
            if (!answer && data.content) answer = bubble("assistant", "Coach");
            if (answer) {
              identify(answer, data.id);
              if (data.status !== "complete") {
                answer.querySelector(".coach-message-meta").textContent = "Coach · " + data.status;
              }
            }
          }
        }
      }
    } catch (e) {
      showError("The connection to the coach broke off. What arrived is kept; send again to continue.");
    } finally {
      if (answer) answer.classList.remove("coach-message-streaming");
      setTyping(false);
      sending = false;
      button.disabled = false;
      input.focus();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });

  // A phase the chat just finished is celebrated like one finished by a tick (the tick's answer brings its own).
  var phasesDone = null;
  function donePhases() {
    var titles = {};
    document.querySelectorAll("#coach-board .coach-phase-done").forEach(function (phase) {
      titles[phase.getAttribute("data-phase")] = phase.getAttribute("data-phase-title");
    });
    return titles;
  }
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "coach-board") phasesDone = donePhases();
  });
  document.body.addEventListener("htmx:afterSettle", function (event) {
    var board = event.target;
    if (!phasesDone || board.id !== "coach-board") return;
    var before = phasesDone, now = donePhases();
    phasesDone = null;
    if (board.querySelector(".coach-celebration")) return;
    var finished = Object.keys(now).filter(function (id) { return !before[id]; });
    if (!finished.length) return;
    var template = document.getElementById("coach-celebration-template");
    var note = template.content.firstElementChild.cloneNode(true);
    note.querySelector(".coach-celebration-text").textContent =
      "Phase complete: " + now[finished[0]] + ". On to the next one!";
    board.insertBefore(note, board.firstChild);
  });

  scrollDown();
})();
