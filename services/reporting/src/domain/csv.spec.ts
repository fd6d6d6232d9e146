import { toCsv } from './csv';

describe('csv', () => {
  it('quotes what needs quoting and defuses formulas', () => {
    expect(
      toCsv(
        ['a', 'b', 'c'],
        [
          ['plain', 3, null],
          ['with, comma', 'say "hi"', 'two\nlines'],
          ['=HYPERLINK("x")', '-1', -1],
        ],
      ),
    ).toBe(
      'a,b,c\r\nplain,3,\r\n"with, comma","say ""hi""","two\nlines"\r\n' +
        `"'=HYPERLINK(""x"")",'-1,-1\r\n`,
    );
  });
});
