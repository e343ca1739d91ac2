import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import FieldMessage from './FieldMessage.svelte';

describe('FieldMessage', () => {
  it('shows help text under the id a control points at', () => {
    render(FieldMessage, { props: { text: 'Shown in the sidebar.', id: 'name-desc' } });
    const p = screen.getByText('Shown in the sidebar.');
    expect(p).toHaveAttribute('id', 'name-desc');
    expect(p.querySelector('svg')).toBeNull();
  });

  it('shows an error with its icon', () => {
    render(FieldMessage, { props: { text: 'Must not be empty', tone: 'error' } });
    expect(screen.getByText('Must not be empty').querySelector('svg')).not.toBeNull();
  });
});
