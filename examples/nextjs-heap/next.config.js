/** @type {import('next').NextConfig} */
module.exports = {
  // A self-contained server in .next/standalone keeps the runtime image small.
  output: "standalone",
};
