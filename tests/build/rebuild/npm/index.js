const ms = require("ms");
const pc = require("picocolors");

console.log(pc.green(`hello, see you in ${ms(60000, { long: true })}`));
