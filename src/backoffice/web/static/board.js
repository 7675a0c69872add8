// The board's drag and drop: dropping a card on a column submits the card's own "move to" form
// (the keyboard alternative) and asks for JSON. A moved card reloads the board (its counts and
// ages change); a refused one shows the engine's reason on the card. Without this script the
// form works alone.
"use strict";

(function () {
  function cardOf(element) { return element.closest(".board-card"); }

  function showRefusal(card, text) {
    var place = card.querySelector(".card-refusal");
    place.textContent = text;
    place.hidden = false;
    card.classList.add("refused");
  }

  function tryMove(card, state) {
    var form = card.querySelector("form.move-form");
    var select = form.querySelector("select[name='to']");
    var known = Array.prototype.some.call(select.options, function (option) { return option.value === state; });
    if (!known) { return; }  // dropped on its own column
    select.value = state;
    var body = new FormData(form);
    fetch(form.action, {method: "POST", body: body, credentials: "same-origin",
                        headers: {"Accept": "application/json"}})
      .then(function (answer) {
        return answer.json().then(function (json) { return {ok: answer.ok, json: json}; },
                                  function () { return {ok: false, json: {refusal: "the server answered " + answer.status}}; });
      })
      .then(function (result) {
        if (result.ok && result.json.moved) { window.location.reload(); return; }
        showRefusal(card, result.json.refusal || "the move was refused");
      })
      .catch(function () { showRefusal(card, "the move could not be sent; try the Move button"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var dragged = null;
    document.querySelectorAll(".board-card").forEach(function (card) {
      card.addEventListener("dragstart", function (event) {
        dragged = card;
        event.dataTransfer.setData("text/plain", card.dataset.case);
        event.dataTransfer.effectAllowed = "move";
        card.classList.add("dragging");
      });
      card.addEventListener("dragend", function () { card.classList.remove("dragging"); });
    });
    document.querySelectorAll(".board-column").forEach(function (column) {
      column.addEventListener("dragover", function (event) { event.preventDefault(); column.classList.add("drop-here"); });
      column.addEventListener("dragleave", function () { column.classList.remove("drop-here"); });
      column.addEventListener("drop", function (event) {
        event.preventDefault();
        column.classList.remove("drop-here");
        var card = dragged || document.getElementById("card-" + event.dataTransfer.getData("text/plain"));
        dragged = null;
        if (card && cardOf(card)) { tryMove(card, column.dataset.state); }
      });
    });
  });
})();
