import {parser} from '@lezer/python';
const src = process.argv[2].replace(/\\n/g,'\n');
const t = parser.parse(src);
let depth=0; const out=[];
t.iterate({enter(n){ out.push('  '.repeat(depth)+n.name+' '+JSON.stringify(src.slice(n.from,n.to)).slice(0,40)); depth++}, leave(){depth--}});
console.log(out.join('\n'));
