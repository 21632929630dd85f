// Keeps the budget bar (knapsack ballots) and the points count (cumulative ballots) up to date
// while a resident chooses. The ballot works without this script: the server checks it all.
(function () {
  "use strict";
  var form = document.getElementById("ballot-form");
  if (!form) { return; }
  var type = form.getAttribute("data-vote-type");

  function format(value) {
    var rounded = Math.round(value * 100) / 100;
    return String(rounded);
  }

  function withCurrency(amount, currency) {
    if (!currency) { return amount; }
    if (currency.toUpperCase() === "EUR") { return "€ " + amount; }
    return amount + " " + currency;
  }

  if (type === "knapsack") {
    var budget = parseFloat(form.getAttribute("data-budget"));
    var meter = document.getElementById("budget-meter");
    var text = document.getElementById("budget-text");
    var boxes = form.querySelectorAll("input[type=checkbox][data-cost]");
    var update = function () {
      var spent = 0;
      for (var i = 0; i < boxes.length; i++) {
        if (boxes[i].checked) { spent += parseFloat(boxes[i].getAttribute("data-cost")); }
      }
      meter.value = Math.min(spent, budget);
      var currency = text.getAttribute("data-currency");
      var over = spent > budget;
      var label = text.getAttribute(over ? "data-over-label" : "data-left-label");
      var amount = withCurrency(format(Math.abs(budget - spent)), currency);
      text.textContent = label.replace("{amount}", amount);
      text.className = over ? "over" : "";
    };
    for (var i = 0; i < boxes.length; i++) { boxes[i].addEventListener("change", update); }
  } else if (type === "cumulative") {
    var max = parseFloat(form.getAttribute("data-max-points"));
    var pointsText = document.getElementById("points-text");
    var inputs = form.querySelectorAll("input.points");
    var recount = function () {
      var given = 0;
      for (var j = 0; j < inputs.length; j++) {
        var value = parseFloat(inputs[j].value);
        if (!isNaN(value) && value > 0) { given += value; }
      }
      var label = pointsText.getAttribute("data-label");
      pointsText.textContent = label.replace("{points}", format(max - given));
      pointsText.className = given > max ? "budget over" : "budget";
    };
    for (var j = 0; j < inputs.length; j++) { inputs[j].addEventListener("input", recount); }
  }
})();
