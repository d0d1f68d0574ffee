// The kubectl look cli-table3 is configured for, what it adds (display width, multi-line cells,
// wrapping to a terminal) and the long-table path that pads plain rows itself.
import { expect } from 'chai';
import { displayWidth, renderTable, wrapColumns, PLAIN_ROWS_ABOVE } from '../../../src/render/table.js';

const lines = (text: string) => text.replace(/\n$/, '').split('\n');

describe('renderTable', () => {
  it('prints kubectl-style: upper-case headers, three spaces between columns, <none> for empty cells, no trailing spaces', () => {
    const out = renderTable(['name', 'ready', 'note'], [['web-1', 1, ''], ['api', null, 'x']]);
    expect(out).to.equal(['NAME    READY    NOTE', 'web-1   1        <none>', 'api     <none>   x', ''].join('\n'));
  });

  it('leaves the headers out with --no-headers, and prints nothing for no rows then', () => {
    expect(renderTable(['name', 'ready'], [['web-1', 1]], { noHeaders: true })).to.equal('web-1   1\n');
    expect(renderTable(['name', 'ready'], [], { noHeaders: true })).to.equal('');
    expect(renderTable(['name', 'ready'], [])).to.equal('NAME   READY\n');
  });

  it('lines up CJK and emoji names by the columns they take on screen, not by their string length', () => {
    // '默认' is 2 characters and 4 columns; '✅' is 1 character and 2 columns.
    const out = renderTable(['namespace', 'pod', 'status'], [['默认', 'ウェブ-0', 'ok'], ['default', 'web-✅', 'ok'], ['kube-system', 'dns', 'ok']]);
    expect(lines(out)).to.deep.equal([
      'NAMESPACE     POD        STATUS',
      '默认          ウェブ-0   ok',
      'default       web-✅     ok',
      'kube-system   dns        ok',
    ]);
    expect(lines(out).map((l) => displayWidth(l.slice(0, l.lastIndexOf(' ') + 1)))).to.deep.equal([25, 25, 25, 25]);
  });

  it('counts colour escapes as taking no room', () => {
    const out = renderTable(['status', 'node'], [['\x1b[31mERROR\x1b[39m', 'a'], ['ok', 'b']]);
    expect(lines(out)).to.deep.equal(['STATUS   NODE', '\x1b[31mERROR\x1b[39m    a', 'ok       b']);
  });

  it('prints a multi-line cell on lines of its own, the other columns left blank there', () => {
    const out = renderTable(['node', 'check', 'value'], [['n1', 'routes', 'default via 10.0.0.1\n10.244.0.0/16 via cni0'], ['n2', 'mtu', '1450']]);
    expect(lines(out)).to.deep.equal([
      'NODE   CHECK    VALUE',
      'n1     routes   default via 10.0.0.1',
      `${' '.repeat(16)}10.244.0.0/16 via cni0`,
      'n2     mtu      1450',
    ]);
  });

  describe('wrapping to the terminal', () => {
    const headers = ['node', 'check', 'value', 'status'];
    const rows = [['n1', 'rp_filter', 'all=2 default=1 eth0=1 cni0=0 flannel.1=0', 'ok']];

    it('wraps the named column at word boundaries so every line fits', () => {
      const out = renderTable(headers, rows, { columns: 50, wrap: 'value' });
      expect(lines(out)).to.deep.equal([
        'NODE   CHECK       VALUE                    STATUS',
        'n1     rp_filter   all=2 default=1 eth0=1   ok',
        `${' '.repeat(19)}cni0=0 flannel.1=0`,
      ]);
      expect(lines(out).every((l) => displayWidth(l) <= 50)).to.equal(true);
    });

    it('does not wrap without a width, without a wrapping column, or when the column would be too narrow to read', () => {
      const oneLine = ['NODE   CHECK       VALUE                                       STATUS', 'n1     rp_filter   all=2 default=1 eth0=1 cni0=0 flannel.1=0   ok', ''].join('\n');
      expect(renderTable(headers, rows, { wrap: 'value' })).to.equal(oneLine);
      expect(renderTable(headers, rows, { columns: 50 })).to.equal(oneLine);
      expect(renderTable(headers, rows, { columns: 40, wrap: 'value' })).to.equal(oneLine);
      expect(renderTable(headers, rows, { columns: 200, wrap: 'value' })).to.equal(oneLine);
    });

    it('cuts a word wider than the column at its edge and keeps every character', () => {
      const path = '/var/lib/cni/networks/cbr0/last_reserved_ip.0';
      const out = renderTable(['node', 'value'], [['n1', `file ${path}`]], { columns: 30, wrap: 'value' });
      const body = lines(out).slice(1);
      expect(body).to.deep.equal(['n1     file /var/lib/cni/netwo', '       rks/cbr0/last_reserved_', '       ip.0']);
      expect(body.map((l) => l.slice(7)).join('')).to.equal(`file ${path}`);
    });

    it('wraps only on a terminal and never with -o wide', () => {
      expect(wrapColumns({ write: () => undefined, isTTY: true, columns: 120 }, 'table')).to.equal(120);
      expect(wrapColumns({ write: () => undefined, isTTY: true, columns: 120 }, 'wide')).to.equal(undefined);
      expect(wrapColumns({ write: () => undefined, isTTY: false, columns: 120 }, 'table')).to.equal(undefined);
    });
  });

  describe(`a table of more than ${PLAIN_ROWS_ABOVE} rows`, () => {
    // Every kind of row: plain, coloured, CJK, emoji, multi-line, one that wraps, empty cells.
    const rows = Array.from({ length: PLAIN_ROWS_ABOVE * 2 + 7 }, (_, i) => {
      switch (i % 7) {
        case 0:
          return [`node-${i}`, 'ip_forward', '1', '\x1b[32mok\x1b[39m'];
        case 1:
          return [`node-${i}`, 'route to 10.244.0.0/16', `10.244.${i % 256}.0/24 via 192.168.77.${i % 250} dev eth0 proto bird onlink`, '\x1b[31mERROR\x1b[39m'];
        case 2:
          return [`ノード-${i}`, 'mtu', '1450', 'ok'];
        case 3:
          return [`node-${i}`, 'emoji 🚀', null, 'n/a'];
        case 4:
          return [`node-${i}`, 'routes', 'default via 10.0.0.1\n10.244.0.0/16 via cni0', 'ok'];
        default:
          return [`node-${i}`, 'rp_filter', `all=${i % 3} default=1`, '\x1b[33mWARN\x1b[39m'];
      }
    });
    const headers = ['node', 'check', 'value', 'status'];

    for (const options of [{}, { noHeaders: true }, { columns: 80, wrap: 'value' }]) {
      it(`prints byte for byte what cli-table3 prints for every row (${JSON.stringify(options)})`, () => {
        const fast = renderTable(headers, rows, options);
        const allThroughCliTable = renderTable(headers, rows, { ...options, plainRowsAbove: Infinity });
        expect(lines(fast).length).to.be.greaterThan(rows.length);
        expect(fast).to.equal(allThroughCliTable);
      });
    }
  });
});
