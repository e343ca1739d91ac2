import { render, screen } from '@testing-library/svelte';
import { createRawSnippet } from 'svelte';
import { describe, expect, it } from 'vitest';
import FilterField from './FilterField.svelte';

const markup = (html: string) => createRawSnippet(() => ({ render: () => html }));

describe('FilterField', () => {
  it('labels the control it wraps', () => {
    render(FilterField, { props: { label: 'Sender', children: markup('<input class="input" name="sender" />') } });
    expect(screen.getByLabelText('Sender')).toHaveAttribute('name', 'sender');
  });

  it('comes in a narrow size for crowded filter bars', () => {
    const { container } = render(FilterField, { props: { label: 'Client', size: 'sm', children: markup('<input class="input" />') } });
    expect(container.querySelector('label')?.className).toMatch(/\bsm\b/);
  });
});
