const products = [
  { id: "mug", name: "Enamel mug", price: 14 },
  { id: "tote", name: "Canvas tote", price: 22 },
];

export default function Home() {
  return (
    <main>
      <h1>Storefront</h1>
      <ul>
        {products.map((p) => (
          <li key={p.id}>
            {p.name}: {p.price} EUR
          </li>
        ))}
      </ul>
    </main>
  );
}
