import { render, screen } from '@testing-library/svelte';
import { createRawSnippet } from 'svelte';
import { describe, expect, it } from 'vitest';
import StatusLine from './StatusLine.svelte';

const markup = (html: string) => createRawSnippet(() => ({ render: () => html }));

describe('StatusLine', () => {
  it('shows its content and keeps the height it is given', () => {
    const { container } = render(StatusLine, { props: { minHeight: 34, children: markup('<span role="status">3 messages match</span>') } });
    expect(screen.getByRole('status').textContent).toBe('3 messages match');
    expect((container.querySelector('.statusline') as HTMLElement).style.minHeight).toBe('34px');
  });

  it('is 28 px high at least by default', () => {
    const { container } = render(StatusLine, { props: { children: markup('<span>0 lines</span>') } });
    expect((container.querySelector('.statusline') as HTMLElement).style.minHeight).toBe('28px');
  });
});
