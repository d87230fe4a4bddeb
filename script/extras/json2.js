// extras/json2.js: sFlow-RT shipped Douglas Crockford's JSON polyfill for its
// old JavaScript engine. flowrt's engine (ES6) has JSON built in, so this file
// is empty on purpose: it keeps include('extras/json2.js') in existing scripts
// working.
