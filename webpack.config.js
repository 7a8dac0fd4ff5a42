// The apps' webpack build (nest-cli.json): Nest's defaults, but the packages are bundled into
// dist/apps/<app>/main.js as well instead of being required from node_modules at start. A start
// then reads one file instead of ~1,600 and resolves no package paths: it reaches /ready on about
// a quarter less CPU (docs/operations.md), and the tests start the apps about 120 times.
// Left to node_modules at run time: what cannot be resolved here (the optional drivers and peers
// of TypeORM, Nest and pg, which they require inside try/catch). Swagger UI's files are read from
// its installed package by the query app itself (apps/query/src/http/docs.ts).
module.exports = (options) => ({
  ...options,
  externals: [
    ({ request, context }, callback) => {
      if (!request || request.startsWith('.') || request.startsWith('/') || request.startsWith('@app/')) return callback();
      try {
        require.resolve(request, { paths: [context || __dirname, __dirname] });
        return callback();
      } catch {
        return callback(null, `commonjs ${request}`);
      }
    },
  ],
});
