export { benchCommand } from './commands/bench.js';
export { demoCommand } from './commands/demo.js';
