// Small enhancements; every page works without them.
(function () {
  "use strict";
  // Scripts this one adds carry the page's nonce, as every script of the page does.
  var NONCE = document.currentScript ? document.currentScript.nonce : "";

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

  // A new element with a class and its text.
  function make(tag, className, text) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (text) element.textContent = text;
    return element;
  }

  function status() {
    var line = make("p", "hint");
    line.setAttribute("role", "status");
    return line;
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  // Leaflet is fetched only when a page has a map: the first map element names its files.
  var leafletLoading = null;
  function withLeaflet(root, draw) {
    if (typeof L !== "undefined") return draw(root);
    var element = root.querySelector ? root.querySelector("[data-leaflet-js]") : null;
    if (!element) return;
    if (!leafletLoading) {
      leafletLoading = new Promise(function (resolve, reject) {
        var css = document.createElement("link");
        css.rel = "stylesheet";
        css.href = element.dataset.leafletCss;
        document.head.appendChild(css);
        var script = document.createElement("script");
        script.src = element.dataset.leafletJs;
        if (NONCE) script.nonce = NONCE;
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    leafletLoading.then(function () {
      draw(root);
    });
  }

  // A map with Leaflet's controls in the page's language, and without its English, flagged prefix.
  function newMap(element, options) {
    options.zoomControl = false;
    var map = L.map(element, options);
    L.control.zoom({ zoomInTitle: element.dataset.zoomIn, zoomOutTitle: element.dataset.zoomOut }).addTo(map);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    return map;
  }

  function drawNetworkMap(root) {
    var element = root.querySelector ? root.querySelector("#network-map") : null;
    if (!element || element.dataset.ready || typeof L === "undefined") return;
    var source = document.getElementById("map-points");
    var points = source ? JSON.parse(source.textContent) : [];
    if (!points.length) return;
    element.hidden = false;
    element.dataset.ready = "1";
    var map = newMap(element, { scrollWheelZoom: false, worldCopyJump: true });
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
      L.marker([point.lat, point.lng], { icon: icon, title: point.name, alt: point.name, keyboard: false })
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
    var map = newMap(element, { scrollWheelZoom: false });
    L.tileLayer(element.dataset.tileUrl, { maxZoom: 18, attribution: element.dataset.attribution }).addTo(map);
    return map;
  }

  // An idea's place: one marker.
  function drawIdeaMap(root) {
    var element = root.querySelector("#idea-map");
    if (!element || element.dataset.ready || typeof L === "undefined") return;
    var point = [parseFloat(element.dataset.lat), parseFloat(element.dataset.lng)];
    var map = baseMap(element);
    L.marker(point, { icon: markerIcon(element), alt: element.dataset.markerAlt }).addTo(map);
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
      if (!marker) marker = L.marker(point, { icon: markerIcon(element), alt: element.dataset.markerAlt }).addTo(map);
      marker.setLatLng(point);
      if (pan) map.setView(point, Math.max(map.getZoom() || 0, 13));
    }
    var start = [parseFloat(lat.value), parseFloat(lng.value)];
    var centre = [parseFloat(element.dataset.centreLat), parseFloat(element.dataset.centreLng)];
    if (isFinite(start[0]) && isFinite(start[1])) {
      place(start, true);
    } else if (isFinite(centre[0]) && isFinite(centre[1])) {
      map.setView(centre, 12); // the workspace's city
    } else {
      map.setView([30, 60], 2);
    }
    function choose(point) {
      lat.value = point[0].toFixed(6);
      lng.value = point[1].toFixed(6);
      place(point, true);
    }
    if (navigator.geolocation && element.dataset.locate) {
      var locate = make("button", "button secondary small", element.dataset.locate);
      locate.type = "button";
      var located = status();
      element.after(locate, located);
      locate.addEventListener("click", function () {
        located.textContent = "";
        navigator.geolocation.getCurrentPosition(
          function (position) {
            choose([position.coords.latitude, position.coords.longitude]);
          },
          function () {
            located.textContent = element.dataset.locateFailed;
          },
          { timeout: 10000 }
        );
      });
    }
    enablePlaceSearch(element, choose);
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

  // The place picker's search: the server asks the geocoder the deployment set (none by default,
  // and then there is no search box), and each result puts the marker there.
  function enablePlaceSearch(element, choose) {
    var url = element.dataset.placeSearch;
    if (!url) return;
    var box = make("div", "place-search");
    var label = make("label", "", element.dataset.searchLabel);
    label.htmlFor = "place-search-q";
    var row = make("div", "search-row");
    var input = make("input");
    input.id = "place-search-q";
    input.type = "search";
    input.maxLength = 200;
    var button = make("button", "button secondary", element.dataset.searchButton);
    button.type = "button";
    var results = make("ul", "place-results");
    var found = status();
    row.append(input, button);
    box.append(label, row, found, results);
    element.before(box);
    var nameField = element.closest("form").querySelector("input[name=place_name]");
    function search() {
      var query = input.value.trim();
      if (!query) return;
      results.textContent = "";
      found.textContent = element.dataset.searching;
      fetch(url + "?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (body) {
          found.textContent = body.places.length ? "" : element.dataset.searchNone;
          body.places.forEach(function (place) {
            var item = make("li");
            var pick = make("button", "link-button", place.name);
            pick.type = "button";
            pick.addEventListener("click", function () {
              choose([place.lat, place.lng]);
              if (nameField && !nameField.value) nameField.value = place.name.split(",")[0];
              results.textContent = "";
              found.textContent = "";
            });
            item.appendChild(pick);
            results.appendChild(item);
          });
        })
        .catch(function () {
          found.textContent = element.dataset.searchFailed;
        });
    }
    button.addEventListener("click", search);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        search();
      }
    });
  }

  // A workspace's ideas that have a place, each marker linking to its idea.
  function drawIdeasMap(root) {
    var element = root.querySelector ? root.querySelector("#ideas-map") : null;
    if (!element || element.dataset.ready || typeof L === "undefined") return;
    var source = document.getElementById("ideas-map-points");
    var points = source ? JSON.parse(source.textContent) : [];
    if (!points.length) return;
    var map = baseMap(element);
    var icon = markerIcon(element);
    var bounds = [];
    points.forEach(function (point) {
      var link = document.createElement("a");
      link.href = point.url;
      link.textContent = point.title;
      L.marker([point.lat, point.lng], { icon: icon, title: point.title, alt: point.title })
        .bindPopup(link)
        .addTo(map);
      bounds.push([point.lat, point.lng]);
    });
    if (bounds.length === 1) map.setView(bounds[0], 14);
    else map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 });
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
    withLeaflet(root, function (scope) {
      drawNetworkMap(scope);
      drawIdeaMap(scope);
      drawPlacePicker(scope);
      drawIdeasMap(scope);
    });
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
  // A stream the server ended for good (the reader may no longer read the room): the room no
  // longer claims to update itself.
  document.addEventListener("htmx:sseClose", function (event) {
    var room = event.target.closest ? event.target.closest("[sse-connect]") : null;
    if (!room) return;
    room.querySelectorAll("[data-live-hint]").forEach(function (hint) {
      hint.hidden = true;
    });
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

  // With htmx from the CDN this script may come after DOMContentLoaded (static/js/load.js), and the
  // SSE extension after htmx set up the page: a live room htmx set up without it is set up again.
  function connectLateRooms() {
    if (!window.htmx) return;
    document.querySelectorAll("[sse-connect]").forEach(function (room) {
      var internal = room["htmx-internal-data"];
      if (internal && internal.sseEventSource) return;
      var fresh = room.cloneNode(true);
      room.replaceWith(fresh);
      htmx.process(fresh);
    });
  }

  // The live room says so when its updates are not running: no htmx, or a stream that failed.
  function showLiveDown(root, down) {
    root.querySelectorAll("[data-live-down]").forEach(function (notice) {
      notice.hidden = !down;
    });
    root.querySelectorAll("[data-live-hint]").forEach(function (hint) {
      if (down) hint.hidden = true;
    });
  }
  document.addEventListener("htmx:sseError", function () {
    showLiveDown(document, true);
  });
  document.addEventListener("htmx:sseOpen", function () {
    showLiveDown(document, false);
    showLiveHints(document);
  });

  function start() {
    enhance(document);
    if (!window.htmx) {
      showLiveDown(document, true);
      return;
    }
    connectLateRooms();
    htmx.onLoad(function (element) {
      enhance(element === document.body ? document : element);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
