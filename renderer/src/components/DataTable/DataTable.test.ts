import { render, screen } from '@testing-library/svelte';
import { createRawSnippet } from 'svelte';
import { describe, expect, it } from 'vitest';
import DataTable from './DataTable.svelte';

const markup = (html: string) => createRawSnippet(() => ({ render: () => html }));

describe('DataTable', () => {
  it('puts the caller’s header cells and rows into one named table', () => {
    render(DataTable, { props: { label: 'Relays', head: markup('<th scope="col">Relay</th>'), children: markup('<tr><td>NAS office</td></tr>') } });
    const table = screen.getByRole('table', { name: 'Relays' });
    expect(table.querySelector('thead tr th')?.textContent).toBe('Relay');
    expect(table.querySelector('tbody tr td')?.textContent).toBe('NAS office');
  });

  it('frames a page’s table unless told it sits in a section, and highlights rows only when asked', () => {
    const { container } = render(DataTable, { props: { label: 'Users', head: markup('<th>Name</th>'), children: markup('<tr><td>bob</td></tr>') } });
    expect(container.querySelector('.table-wrap')?.className).toMatch(/\bpage\b/);
    expect(container.querySelector('.table-wrap')?.className).not.toMatch(/\bhover\b/);
    const other = render(DataTable, { props: { label: 'Rules', variant: 'section', hover: true, head: markup('<th>Name</th>'), children: markup('<tr><td>x</td></tr>') } });
    expect(other.container.querySelector('.table-wrap')?.className).toMatch(/\bsection\b.*\bhover\b/);
  });
});
