/* flowrt: a small jQuery widget factory, $.widget('ns.name', prototype), for
 * the pages written for sFlow-RT that load ../../../inc/jquery.widget.js
 * instead of jQuery UI. It is flowrt's own code (Apache-2.0). Where jQuery UI
 * is already loaded its factory is kept: this defines nothing then.
 *
 * What the pages rely on, and so what this gives:
 *   $(el).name(options)            create (or set options on) the widget; returns the jQuery set
 *   $(el).name('method', args…)    call a method; its result, or the set when it returns undefined
 *   $(el).name('destroy')          remove it (calls _destroy)
 *   $.ns.name.prototype.options    the defaults (pages read colors from here)
 *   this._trigger('click', e, d)   fires '<name>click' on the element with (event, d)
 */
(function($) {
  'use strict';
  if (!$) throw new Error('jquery.widget.js needs jQuery: load ../../../inc/jquery.min.js first');
  if ($.widget) return;

  function Base() {}
  Base.prototype = {
    options: {},
    _create: function() {},
    _init: function() {},
    _destroy: function() {},
    _setOption: function(key, value) { this.options[key] = value; },
    option: function(key, value) {
      if (key === undefined) return $.extend({}, this.options);
      if (typeof key === 'string' && value === undefined) return this.options[key];
      var set = typeof key === 'string' ? {} : key;
      if (typeof key === 'string') set[key] = value;
      for (var k in set) this._setOption(k, set[k]);
      return this;
    },
    instance: function() { return this; },
    widget: function() { return this.element; },
    destroy: function() {
      this._destroy();
      this.element.removeData(this.widgetFullName);
      this.element.off('.' + this.widgetName);
    },
    _trigger: function(type, event, data) {
      var e = $.Event(event);
      e.type = (this.widgetEventPrefix + type).toLowerCase();
      this.element.trigger(e, data);
      var cb = this.options[type];
      return !(typeof cb === 'function' && cb.call(this.element[0], e, data) === false || e.isDefaultPrevented());
    }
  };

  $.widget = function(fullName, base, proto) {
    if (!proto) { proto = base; base = Base; }
    var parts = fullName.split('.'), ns = parts[0], name = parts[1];
    var Ctor = function(options, element) {
      this.element = $(element);
      this.options = $.extend(true, {}, Ctor.prototype.options, options || {});
      this._create();
      this._init();
    };
    var p = Object.create(base.prototype);
    for (var k in proto) {
      if (k === 'options') p.options = $.extend(true, {}, base.prototype.options, proto.options);
      else p[k] = proto[k];
    }
    p.constructor = Ctor;
    p.widgetName = name;
    p.widgetFullName = ns + '-' + name;
    p.widgetEventPrefix = name;
    Ctor.prototype = p;
    $[ns] = $[ns] || {};
    $[ns][name] = Ctor;

    $.fn[name] = function(arg) {
      var args = Array.prototype.slice.call(arguments, 1), result;
      if (typeof arg === 'string') {
        this.each(function() {
          var inst = $.data(this, p.widgetFullName);
          if (!inst) throw new Error('cannot call method ' + arg + ' of ' + name + ': not created on this element yet');
          if (typeof inst[arg] !== 'function' || arg.charAt(0) === '_') throw new Error('no method ' + arg + ' on ' + name);
          var r = inst[arg].apply(inst, args);
          if (r !== undefined && r !== inst && result === undefined) result = r;
        });
        return result !== undefined ? result : this;
      }
      return this.each(function() {
        var inst = $.data(this, p.widgetFullName);
        if (inst) { if (arg) inst.option(arg); inst._init(); }
        else $.data(this, p.widgetFullName, new Ctor(arg, this));
      });
    };
    return Ctor;
  };
})(window.jQuery);
