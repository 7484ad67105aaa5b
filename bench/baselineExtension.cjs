// The baseline for activation: the smallest useful extension — a tree view and a command.
const vscode = require('vscode');
exports.activate = (context) => {
  const provider = { getChildren: () => [], getTreeItem: (x) => x };
  context.subscriptions.push(vscode.window.createTreeView('baseline.view', { treeDataProvider: provider }));
  context.subscriptions.push(vscode.commands.registerCommand('baseline.hello', () => undefined));
};
