// Temporary: src/queue/set-aside.ts imports the quarantine's key and cap from here, and src/queue/
// is frozen while mutation testing runs against it. Point that import at
// './quarantine/quarantine.js' and delete this file.
export { QUARANTINE_CAP, quarantineKey } from './quarantine/quarantine.js';
