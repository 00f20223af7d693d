// Toolbar pickers: a single-value select, the namespace multi-select, time range and refresh interval.

import { MenuToggle, Select, SelectList, SelectOption } from '@patternfly/react-core';
import { useState } from 'react';

export interface Option {
  value: string;
  label: string;
}

export function SimpleSelect({ id, value, options, onChange, prefix }: { id: string; value: string; options: Option[]; onChange: (v: string) => void; prefix?: string }) {
  const [open, setOpen] = useState(false);
  const label = options.find((o) => o.value === value)?.label ?? value;
  return (
    <Select
      id={id}
      isOpen={open}
      selected={value}
      onSelect={(_e, v) => {
        onChange(String(v));
        setOpen(false);
      }}
      onOpenChange={setOpen}
      toggle={(ref) => (
        <MenuToggle ref={ref} onClick={() => setOpen(!open)} isExpanded={open} data-test={`${id}-toggle`}>
          {prefix ? `${prefix}: ` : ''}
          {label}
        </MenuToggle>
      )}
      shouldFocusToggleOnSelect
    >
      <SelectList>
        {options.map((o) => (
          <SelectOption key={o.value} value={o.value} data-test={`${id}-${o.value}`}>
            {o.label}
          </SelectOption>
        ))}
      </SelectList>
    </Select>
  );
}

export function NamespacePicker({ all, selected, onChange }: { all: string[]; selected: string[]; onChange: (v: string[]) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <Select
      id="namespaces"
      role="menu"
      isOpen={open}
      selected={selected}
      onSelect={(_e, v) => {
        const name = String(v);
        onChange(selected.includes(name) ? selected.filter((n) => n !== name) : [...selected, name].sort());
      }}
      onOpenChange={setOpen}
      toggle={(ref) => (
        <MenuToggle ref={ref} onClick={() => setOpen(!open)} isExpanded={open} data-test="namespaces-toggle">
          Namespace: {selected.length ? selected.join(', ') : 'select…'}
        </MenuToggle>
      )}
    >
      <SelectList>
        {all.map((n) => (
          <SelectOption key={n} value={n} hasCheckbox isSelected={selected.includes(n)}>
            {n}
          </SelectOption>
        ))}
      </SelectList>
    </Select>
  );
}

export const DURATIONS: Option[] = [
  { value: '60', label: 'Last 1m' },
  { value: '300', label: 'Last 5m' },
  { value: '600', label: 'Last 10m' },
  { value: '1800', label: 'Last 30m' },
  { value: '3600', label: 'Last 1h' },
  { value: '10800', label: 'Last 3h' },
];

export const REFRESH: Option[] = [
  { value: '0', label: 'Pause' },
  { value: '5000', label: 'Every 5s' },
  { value: '10000', label: 'Every 10s' },
  { value: '15000', label: 'Every 15s' },
  { value: '30000', label: 'Every 30s' },
  { value: '60000', label: 'Every 1m' },
];
