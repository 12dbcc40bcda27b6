/*
 * Keyboard use of an admin change list: move between rows, tick them, run the page's
 * bulk actions (asking for a reason where the action needs one), see the help.
 * The page describes its shortcuts in <script id="keyboard-actions"> (json_script) and
 * carries the help and reason dialogs; this file holds no text of its own, so every
 * word people see comes from the translated template.
 */
(function () {
  "use strict";

  const ROW_KEY = "erp.keyboard.row:" + window.location.pathname;

  function init() {
    const config = document.getElementById("keyboard-actions");
    const table = document.getElementById("result_list");
    const form = document.getElementById("changelist-form");
    if (!config || !table || !form) {
      return;
    }
    const shortcuts = JSON.parse(config.textContent);
    const help = document.getElementById("keyboard-help");
    const reasonDialog = document.getElementById("keyboard-reason");
    const reasonInput = document.getElementById("keyboard-reason-input");
    const reasonLabel = document.getElementById("keyboard-reason-action");
    let current = -1;
    let pending = null;

    function rows() {
      return Array.from(table.querySelectorAll("tbody tr"));
    }

    function checkbox(row) {
      return row.querySelector("input.action-select");
    }

    function focusRow(index) {
      const all = rows();
      if (!all.length) {
        return;
      }
      current = Math.max(0, Math.min(index, all.length - 1));
      all.forEach(function (row, i) {
        row.tabIndex = i === current ? 0 : -1;
        row.classList.toggle("keyboard-current", i === current);
      });
      all[current].focus();
    }

    function toggle(row) {
      const box = checkbox(row);
      if (box) {
        // A click, not .checked: Django's actions.js updates the counter and colours.
        box.click();
      }
    }

    function ticked() {
      return rows().filter(function (row) {
        const box = checkbox(row);
        return box && box.checked;
      });
    }

    function run(shortcut, reason) {
      if (!ticked().length && current >= 0) {
        toggle(rows()[current]);
      }
      if (!ticked().length) {
        return;
      }
      form.querySelector("select[name=action]").value = shortcut.action;
      const reasonField = form.querySelector("input[name=reason]");
      if (reasonField) {
        reasonField.value = reason || "";
      }
      window.sessionStorage.setItem(ROW_KEY, String(Math.max(current, 0)));
      form.querySelector("button[name=index]").click();
    }

    function ask(shortcut) {
      if (!ticked().length && current < 0) {
        return;
      }
      pending = shortcut;
      reasonLabel.textContent = shortcut.label;
      reasonInput.value = "";
      reasonDialog.returnValue = "";
      reasonDialog.showModal();
      reasonInput.focus();
    }

    reasonDialog.addEventListener("close", function () {
      if (reasonDialog.open) {
        // The close event is queued: an Escape followed at once by the next shortcut
        // opens the dialog again before it arrives. That close is stale; acting on it
        // would drop the new question and pull focus from the reason being typed.
        return;
      }
      const reason = reasonInput.value.trim();
      const shortcut = pending;
      pending = null;
      if (reasonDialog.returnValue === "ok" && reason && shortcut) {
        run(shortcut, reason);
      } else if (current >= 0) {
        focusRow(current);
      }
    });

    help.addEventListener("close", function () {
      if (!help.open && current >= 0) {
        focusRow(current);
      }
    });

    rows().forEach(function (row, i) {
      row.tabIndex = -1;
      row.addEventListener("click", function () {
        current = i;
      });
    });
    if (rows().length) {
      rows()[0].tabIndex = 0;
    }
    table.addEventListener("focusin", function (event) {
      const row = event.target.closest("tbody tr");
      if (row) {
        current = rows().indexOf(row);
        rows().forEach(function (other, i) {
          other.classList.toggle("keyboard-current", i === current);
        });
      }
    });

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) {
        return;
      }
      const target = event.target;
      if (target.closest && target.closest("dialog[open]")) {
        return; // the dialogs handle Enter and Escape themselves
      }
      const typing =
        target.matches &&
        target.matches("input:not(.action-select):not([type=checkbox]), select, textarea");
      if (typing || target.isContentEditable) {
        if (event.key === "Escape") {
          target.blur();
          focusRow(current < 0 ? 0 : current);
          event.preventDefault();
        }
        return;
      }
      const onRow = target.closest && target.closest("#result_list tbody tr");
      const key = event.key;
      if (key === "j" || key === "ArrowDown") {
        focusRow(current + 1);
      } else if (key === "k" || key === "ArrowUp") {
        focusRow(current < 0 ? 0 : current - 1);
      } else if (key === "x" || (key === " " && onRow && !target.matches("input"))) {
        if (current < 0) {
          focusRow(0);
        }
        toggle(rows()[current]);
      } else if ((key === "Enter" && onRow === target) || key === "o") {
        const row = rows()[current];
        const link = row && row.querySelector("th a, td a");
        if (!link) {
          return;
        }
        link.click();
      } else if (key === "*") {
        const all = document.getElementById("action-toggle");
        if (all) {
          all.click();
        }
      } else if (key === ".") {
        form.querySelector("select[name=action]").focus();
      } else if (key === "/") {
        const search = document.getElementById("searchbar");
        if (!search) {
          return;
        }
        search.focus();
      } else if (key === "?") {
        help.showModal();
      } else {
        const shortcut = shortcuts.find(function (s) {
          return s.key === key;
        });
        if (!shortcut) {
          return;
        }
        if (shortcut.reason) {
          ask(shortcut);
        } else {
          run(shortcut, "");
        }
      }
      event.preventDefault();
    });

    // Back from an action: the cursor is where it was, ready for the next key.
    const remembered = window.sessionStorage.getItem(ROW_KEY);
    if (remembered !== null) {
      window.sessionStorage.removeItem(ROW_KEY);
      focusRow(parseInt(remembered, 10) || 0);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
