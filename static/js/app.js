// Small enhancements; every page works without them.
(function () {
  "use strict";

  function detectTimeZone(root) {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    root.querySelectorAll("input[data-detect-time-zone]").forEach(function (input) {
      if (!input.value && zone) input.value = zone;
    });
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function drawNetworkMap(root) {
    var element = root.querySelector ? root.querySelector("#network-map") : null;
    if (!element || element.dataset.ready || typeof L === "undefined") return;
    var source = document.getElementById("map-points");
    var points = source ? JSON.parse(source.textContent) : [];
    if (!points.length) return;
    element.hidden = false;
    element.dataset.ready = "1";
    var map = L.map(element, { scrollWheelZoom: false, worldCopyJump: true });
    L.tileLayer(element.dataset.tileUrl, {
      maxZoom: 18,
      attribution: element.dataset.attribution,
    }).addTo(map);
    var icon = L.icon({
      iconUrl: element.dataset.markerIcon,
      iconRetinaUrl: element.dataset.markerIcon2x,
      shadowUrl: element.dataset.markerShadow,
      iconSize: [25, 41],
      iconAnchor: [12, 41],
      popupAnchor: [1, -34],
      shadowSize: [41, 41],
    });
    var bounds = [];
    points.forEach(function (point) {
      var label = escapeHtml(point.name) + (point.local ? "<br>" + escapeHtml(point.local) : "");
      // Not focusable: close cities' markers overlap (too small a target, WCAG 2.5.8), and the list
      // of cities below the map says the same to keyboards and screen readers.
      L.marker([point.lat, point.lng], { icon: icon, title: point.name, keyboard: false })
        .bindPopup(label)
        .addTo(map);
      bounds.push([point.lat, point.lng]);
    });
    map.fitBounds(bounds, { padding: [20, 20] });
  }

  function syncDocumentLanguage() {
    var page = document.getElementById("page");
    if (page && page.lang) document.documentElement.lang = page.lang;
  }

  function markerIcon(element) {
    return L.icon({
      iconUrl: element.dataset.markerIcon,
      iconRetinaUrl: element.dataset.markerIcon2x,
      shadowUrl: element.dataset.markerShadow,
      iconSize: [25, 41],
      iconAnchor: [12, 41],
      popupAnchor: [1, -34],
      shadowSize: [41, 41],
    });
  }

  function baseMap(element) {
    element.hidden = false;
    element.dataset.ready = "1";
    var map = L.map(element, { scrollWheelZoom: false });
    L.tileLayer(element.dataset.tileUrl, { maxZoom: 18, attribution: element.dataset.attribution }).addTo(map);
    return map;
  }

  // An idea's place: one marker.
  function drawIdeaMap(root) {
    var element = root.querySelector("#idea-map");
    if (!element || element.dataset.ready || typeof L === "undefined") return;
    var point = [parseFloat(element.dataset.lat), parseFloat(element.dataset.lng)];
    var map = baseMap(element);
    L.marker(point, { icon: markerIcon(element) }).addTo(map);
    map.setView(point, 14);
  }

  // The idea form: a click on the map fills in the coordinates; typed coordinates move the marker.
  function drawPlacePicker(root) {
    var element = root.querySelector("#place-picker");
    if (!element || element.dataset.ready || typeof L === "undefined") return;
    var form = element.closest("form");
    var lat = form.querySelector("input[name=latitude]");
    var lng = form.querySelector("input[name=longitude]");
    var map = baseMap(element);
    var marker = null;
    function place(point, pan) {
      if (!marker) marker = L.marker(point, { icon: markerIcon(element) }).addTo(map);
      marker.setLatLng(point);
      if (pan) map.setView(point, Math.max(map.getZoom() || 0, 13));
    }
    var start = [parseFloat(lat.value), parseFloat(lng.value)];
    if (isFinite(start[0]) && isFinite(start[1])) {
      place(start, true);
    } else {
      map.setView([30, 60], 2);
    }
    map.on("click", function (event) {
      lat.value = event.latlng.lat.toFixed(6);
      lng.value = event.latlng.lng.toFixed(6);
      place(event.latlng, false);
    });
    [lat, lng].forEach(function (input) {
      input.addEventListener("change", function () {
        var point = [parseFloat(lat.value), parseFloat(lng.value)];
        if (isFinite(point[0]) && isFinite(point[1])) place(point, true);
      });
    });
  }

  // The session form: "Add a row" adds an empty agenda row in place and puts the cursor in it. Without
  // the script the same button sends the form back with one row more.
  function enableAgendaRows(root) {
    root.querySelectorAll("button[data-add-agenda-row]").forEach(function (button) {
      if (button.dataset.ready) return;
      button.dataset.ready = "1";
      button.type = "button";
      button.addEventListener("click", function () {
        var list = document.getElementById("agenda-rows");
        var template = document.getElementById("agenda-row-template");
        var index = list.children.length;
        list.insertAdjacentHTML(
          "beforeend",
          template.innerHTML.split("{index}").join(index).split("{number}").join(index + 1)
        );
        list.lastElementChild.querySelector("input").focus();
        if (list.children.length >= parseInt(button.dataset.maxRows, 10)) button.hidden = true;
      });
    });
  }

  // The live room says it follows by itself only where the script, and htmx with it, runs.
  function showLiveHints(root) {
    if (!window.htmx) return;
    root.querySelectorAll("[data-live-hint]").forEach(function (hint) {
      hint.hidden = false;
    });
  }

  function enhance(root) {
    syncDocumentLanguage();
    detectTimeZone(root);
    drawNetworkMap(root);
    drawIdeaMap(root);
    drawPlacePicker(root);
    enableAgendaRows(root);
    showLiveHints(root);
  }

  // The live room: remember the last event, so that when the SSE extension opens a new connection
  // (after the old one was closed) the server resumes from there and nothing is missed.
  document.addEventListener("htmx:sseMessage", function (event) {
    var room = event.target.closest ? event.target.closest("[sse-connect]") : null;
    var id = event.detail && event.detail.lastEventId;
    if (!room || !id) return;
    room.dataset.lastEventId = id;
    room.setAttribute("sse-connect", room.getAttribute("sse-connect").replace(/last_event_id=\d*/, "last_event_id=" + id));
  });
  // The live room's notice that a ballot opened stays until it is dismissed (or the next one comes).
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-dismiss-notice]") : null;
    if (button) button.closest(".room-notice").remove();
  });
  // htmx gives the focus back to a swapped control that keeps its id; where the control is gone (a reply
  // form closes once sent), the new content names with data-swap-focus what takes the focus instead of
  // <body>, from where the next Tab would jump to the footer.
  document.addEventListener("htmx:afterSettle", function (event) {
    var active = document.activeElement;
    if (active && active !== document.body) return;
    var root = event.target;
    var target = root.matches && root.matches("[data-swap-focus]") ? root : root.querySelector("[data-swap-focus]");
    if (target) target.focus();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (form.classList && form.classList.contains("quick-idea") && event.detail.xhr && event.detail.xhr.status < 400) {
      form.reset();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    if (window.htmx) {
      htmx.onLoad(function (element) {
        enhance(element === document.body ? document : element);
      });
    }
  });
})();
