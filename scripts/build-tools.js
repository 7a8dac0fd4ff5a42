// The operator tools as built entries, so that the image (which has neither ts-node
// nor the sources) can run them: dist/tools/events.js (npm run events) and
// dist/tools/rebuild.js (npm run rebuild). Bundled like Nest's own build
// (apps/ and libs/ inlined, node_modules left external).
// node scripts/build-tools.js (part of npm run build); webpack's API, as there is no webpack-cli.
const path = require('node:path');
const webpack = require('webpack');
const nodeExternals = require('webpack-node-externals');
const { TsconfigPathsPlugin } = require('tsconfig-paths-webpack-plugin');

const root = path.resolve(__dirname, '..');
const tsconfig = path.join(root, 'tsconfig.json');

const config = {
  context: root,
  entry: { events: './scripts/events.ts', rebuild: './apps/ingest/src/rebuild/main.ts' },
  target: 'node',
  mode: 'none',
  devtool: false,
  output: { path: path.join(root, 'dist', 'tools'), filename: '[name].js' },
  externals: [nodeExternals()],
  externalsPresets: { node: true },
  module: { rules: [{ test: /\.ts$/, exclude: /node_modules/, use: [{ loader: 'ts-loader', options: { transpileOnly: true, configFile: tsconfig } }] }] },
  resolve: { extensions: ['.ts', '.js'], plugins: [new TsconfigPathsPlugin({ configFile: tsconfig })] },
  optimization: { nodeEnv: false },
  node: { __filename: false, __dirname: false },
  ignoreWarnings: [/^(?!CriticalDependenciesWarning$)/],
};

module.exports = { config };

if (require.main === module) {
  webpack(config, (error, stats) => {
    if (error || stats.hasErrors()) {
      process.stderr.write(`${error ? error.message : stats.toString({ all: false, errors: true })}\n`);
      process.exit(1);
    }
    process.stdout.write(`tools: built ${Object.keys(config.entry).map((name) => `dist/tools/${name}.js`).join(', ')}\n`);
  });
}
