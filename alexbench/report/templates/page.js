
(function(){
  function key(entry, col, numeric){
    var row = entry.tagName === 'TBODY' ? entry.rows[0] : entry;
    var cell = row.cells[col];
    var raw = cell ? (cell.getAttribute('data-sort') !== null ? cell.getAttribute('data-sort') : cell.textContent) : '';
    if (!numeric) return raw.trim().toLowerCase();
    var v = parseFloat(raw);
    return isNaN(v) ? null : v;
  }
  function sortBy(table, th){
    var col = th.cellIndex, numeric = th.getAttribute('data-type') === 'number';
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function(h){ h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var grouped = table.classList.contains('grouped');
    var parent = grouped ? table : table.tBodies[0];
    var entries = Array.prototype.slice.call(grouped ? table.tBodies : table.tBodies[0].rows);
    var keyed = entries.map(function(en, i){ return {en: en, k: key(en, col, numeric), i: i}; });
    keyed.sort(function(a, b){
      if (a.k === null || b.k === null) return a.k === null ? (b.k === null ? a.i - b.i : 1) : -1;
      var c = a.k < b.k ? -1 : a.k > b.k ? 1 : 0;
      return (asc ? c : -c) || a.i - b.i;
    });
    keyed.forEach(function(x){ parent.appendChild(x.en); });
  }
  document.querySelectorAll('table.sortable').forEach(function(table){
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function(th){
      th.tabIndex = 0;
      th.addEventListener('click', function(){ sortBy(table, th); });
      th.addEventListener('keydown', function(ev){
        if (ev.key === 'Enter' || ev.key === ' '){ ev.preventDefault(); sortBy(table, th); }
      });
    });
  });
})();
