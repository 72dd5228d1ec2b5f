export interface Figure {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export function formatFigure(figure: Figure): string {
  const value = Math.abs(figure.value) >= 100 ? figure.value.toFixed(0) : figure.value.toFixed(2);
  return `${figure.name}: ${value} ${figure.unit}${figure.note === undefined ? '' : `  # ${figure.note}`}`;
}
