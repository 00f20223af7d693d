// The HTML of productpage's index and product pages: self-contained (inline CSS, no scripts), with upstream's headings and error texts.

export interface Product {
  id: number;
  title: string;
  descriptionHtml: string;
}

export interface ReviewRating {
  stars?: number;
  color?: string;
  error?: string;
}

export interface Review {
  reviewer?: string;
  text?: string;
  rating?: ReviewRating;
}

export interface ProductPageModel {
  product: Product | undefined;
  detailsStatus: number;
  details: Record<string, unknown>;
  reviewsStatus: number;
  reviews: { reviews?: Review[]; error?: string; podname?: string };
  user: string;
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
  body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #222; background: #fafafa; }
  nav { background: #222; color: #eee; padding: 10px 20px; display: flex; justify-content: space-between; align-items: center; }
  nav .brand { font-size: 1.2em; color: #fff; text-decoration: none; }
  nav form { display: inline-flex; gap: 6px; }
  nav a { color: #9cf; }
  main { max-width: 1000px; margin: 0 auto; padding: 10px 20px; }
  h3, h4 { color: #337ab7; text-align: center; }
  .row { display: flex; gap: 30px; flex-wrap: wrap; }
  .col { flex: 1 1 400px; }
  dt { font-weight: bold; margin-top: 6px; }
  blockquote { border-left: 5px solid #eee; margin: 0 0 16px; padding: 8px 16px; background: #fff; }
  blockquote small { display: block; color: #777; }
  blockquote small::before { content: "\\2014 \\00A0"; }
  .glyphicon-star, .glyphicon-star-empty { font-size: 1.3em; }
  table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
`;

function page(body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Simple Bookstore App</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** upstream's service tree shown on the index page (productpage → details, reviews → ratings). */
interface ServiceNode {
  name: string;
  endpoint: string;
  children: ServiceNode[];
}

function serviceTable(node: ServiceNode): string {
  const children = node.children.length
    ? `<table><tbody>${node.children.map((c) => `<tr><td>${serviceTable(c)}</td></tr>`).join('')}</tbody></table>`
    : '';
  return `<table><tbody><tr><th>name</th><td>${escapeHtml(node.name)}</td></tr><tr><th>endpoint</th><td>${escapeHtml(
    node.endpoint,
  )}</td></tr><tr><th>children</th><td>${children}</td></tr></tbody></table>`;
}

export function renderIndex(urls: { details: string; reviews: string; ratings: string }): string {
  const ratings: ServiceNode = { name: urls.ratings, endpoint: 'ratings', children: [] };
  const details: ServiceNode = { name: urls.details, endpoint: 'details', children: [] };
  const reviews: ServiceNode = { name: urls.reviews, endpoint: 'reviews', children: [ratings] };
  const productpage: ServiceNode = { name: urls.details, endpoint: 'details', children: [details, reviews] };
  return page(`<main>
<h3>Hello! This is a simple bookstore application consisting of three services as shown below</h3>
${serviceTable(productpage)}
<h4>Click on one of the links below to auto generate a request to the backend as a real user or a tester</h4>
<p><a href="/productpage?u=normal">Normal user</a></p>
<p><a href="/productpage?u=test">Test user</a></p>
</main>`);
}

function stars(rating: ReviewRating): string {
  const n = Math.max(0, Math.min(5, Math.trunc(rating.stars ?? 0)));
  const full = '<span class="glyphicon glyphicon-star">★</span>'.repeat(n);
  const empty = '<span class="glyphicon glyphicon-star-empty">☆</span>'.repeat(5 - n);
  return `<font color="${escapeHtml(rating.color)}" style="color: ${escapeHtml(rating.color)}">${full}${empty}</font>`;
}

function reviewHtml(review: Review): string {
  let rating = '';
  if (review.rating) {
    if (review.rating.stars) rating = stars(review.rating);
    else if (review.rating.error) rating = `<p><i>${escapeHtml(review.rating.error)}</i></p>`;
  }
  return `<blockquote>
<p>${escapeHtml(review.text)}</p>
<small>${escapeHtml(review.reviewer)}</small>
${rating}
</blockquote>`;
}

export function renderProductPage(m: ProductPageModel): string {
  const nav = m.user
    ? `<span>&#128100; ${escapeHtml(m.user)} ( <a href="logout">sign out</a> )</span>`
    : `<form method="post" action="login" name="login_form">
<input type="text" name="username" id="username" placeholder="User Name" aria-label="User Name">
<input type="password" name="passwd" placeholder="Password" aria-label="Password">
<button type="submit">Sign in</button>
</form>`;
  const product = m.product
    ? `<h3>${escapeHtml(m.product.title)}</h3>
<p>Summary: ${m.product.descriptionHtml}</p>`
    : '';
  const d = m.details;
  const details =
    m.detailsStatus === 200
      ? `<h4>Book Details</h4>
<dl>
<dt>Type:</dt><dd>${escapeHtml(d.type)}</dd>
<dt>Pages:</dt><dd>${escapeHtml(d.pages)}</dd>
<dt>Publisher:</dt><dd>${escapeHtml(d.publisher)}</dd>
<dt>Language:</dt><dd>${escapeHtml(d.language)}</dd>
<dt>ISBN-10:</dt><dd>${escapeHtml(d['ISBN-10'])}</dd>
<dt>ISBN-13:</dt><dd>${escapeHtml(d['ISBN-13'])}</dd>
</dl>`
      : `<h4>Error fetching product details!</h4>
${d.error ? `<p>${escapeHtml(d.error)}</p>` : ''}`;
  const reviews =
    m.reviewsStatus === 200
      ? `<h4>Book Reviews</h4>
${(m.reviews.reviews ?? []).map(reviewHtml).join('\n')}`
      : `<h4>Error fetching product reviews!</h4>
${m.reviews.error ? `<p>${escapeHtml(m.reviews.error)}</p>` : ''}`;
  return page(`<nav>
<a class="brand" href="#">BookInfo Sample</a>
${nav}
</nav>
<main>
${product}
<div class="row">
<div class="col">
${details}
</div>
<div class="col">
${reviews}
</div>
</div>
</main>`);
}
